// Passkeys in a real browser: Chromium's virtual authenticator (the DevTools protocol's WebAuthn domain) stands for
// a phone or a security key. A reviewer logs in with password and app code, adds a passkey on the sessions page, logs
// out, and logs in with password and passkey; an authenticator that cannot verify its user is refused. A member of
// the advisory unit does the same on the module's pages. Varde is reached at http://localhost (browsers refuse an IP
// address as a passkey's site), with databases of its own.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { generate } from "otplib";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const bin = process.env.VARDE_BIN ?? join(root, "target", "debug", "varde");
const shots = join(root, "artifacts", "browser");
mkdirSync(shots, { recursive: true });
const dir = mkdtempSync(join(tmpdir(), "varde-passkey-"));
const db = `sqlite://${join(dir, "v.db")}`;
const advisory = ["--advisory-database", `sqlite://${join(dir, "advisory.db")}`, "--advisory-key-file", join(dir, "advisory.key")];
const varde = (args, input) => {
  const r = spawnSync(bin, ["--database", db, ...advisory, ...args], { input, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
};

let server, base, browser;

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

before(async () => {
  varde(["user", "add", "rolf", "--role", "reviewer"], "reviewer-passord-123\n");
  writeFileSync(join(dir, "advisory.key"), varde(["advisory", "key"]));
  varde(["advisory", "user", "siri", "--role", "lead", "--kommune", "0301"], "radgivning-passord-1\n");
  const port = await freePort();
  base = `http://localhost:${port}`;
  server = spawn(bin, ["--database", db, ...advisory, "serve", "--listen", `127.0.0.1:${port}`, "--public-url", base], { env: { ...process.env, VARDE_LOG: "warn" } });
  await new Promise((resolve, reject) => {
    server.stdout.on("data", (d) => String(d).includes("listening on") && resolve());
    server.on("exit", (code) => reject(new Error(`varde exited ${code}`)));
  });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  await browser?.close();
  server?.kill();
});

async function withAuthenticator(context, page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  return { cdp, authenticatorId };
}

async function password(page) {
  await page.goto(`${base}/login?lang=en&next=/review`);
  await page.fill("#username", "rolf");
  await page.fill("#password", "reviewer-passord-123");
  await page.click("button[type=submit]");
  await page.waitForLoadState();
  assert.ok(new URL(page.url()).pathname.startsWith("/login/second-factor"), page.url());
}

test("a reviewer adds a passkey and gives it instead of the app's code", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const { cdp, authenticatorId } = await withAuthenticator(context, page);

  // The first login enrols the app (a reviewer must give a second factor); no passkey is offered yet.
  await password(page);
  assert.equal(await page.locator("#passkey-login").count(), 0, "no passkey to offer");
  const secret = await page.locator("[data-secret]").getAttribute("data-secret");
  await page.fill("#code", await generate({ secret }));
  await page.click("form button[type=submit]");
  await page.click("a.button");

  // The sessions page adds one, named by the person.
  await page.goto(`${base}/sessions?lang=en`);
  await page.fill("#passkey-name", "Test authenticator");
  await page.click("#passkey-add button[type=submit]");
  await page.waitForSelector("table.passkeys td:has-text('Test authenticator')");
  let { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
  assert.equal(credentials.length, 1, "the authenticator made one credential");
  assert.equal(credentials[0].rpId, "localhost");
  await page.screenshot({ path: join(shots, "17-passkeys.png"), fullPage: true });

  // Log out and in: the passkey passes the second step.
  await page.click("form.logout button");
  await password(page);
  await page.click("#passkey-login button");
  await page.waitForURL((u) => u.pathname === "/review");
  ({ credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId }));
  assert.ok(credentials[0].signCount >= 1, "the authenticator signed");
  await page.goto(`${base}/sessions?lang=en`);
  assert.notEqual(await page.locator("table.passkeys td").nth(2).textContent(), "–", "its last use is shown");

  // An authenticator that cannot verify its user (no PIN, no fingerprint) is not a second factor: refused, and the
  // page stays where it was, with the app's code still possible.
  await page.click("form.logout button");
  await cdp.send("WebAuthn.setUserVerified", { authenticatorId, isUserVerified: false });
  await password(page);
  await page.click("#passkey-login button");
  await page.waitForFunction(() => document.querySelector("#passkey-login [role=status]").textContent.length > 0);
  assert.match(await page.locator("#passkey-login [role=status]").textContent(), /not accepted/);
  assert.ok(new URL(page.url()).pathname.startsWith("/login/second-factor"));
  await context.close();
});

test("a member of the advisory unit adds a passkey and gives it at login", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const { cdp, authenticatorId } = await withAuthenticator(context, page);
  const login = async () => {
    await page.goto(`${base}/advisory/login?lang=nn`);
    await page.fill("input[name=username]", "siri");
    await page.fill("input[name=password]", "radgivning-passord-1");
    await page.click("form button[type=submit]");
    await page.waitForLoadState();
    assert.ok(new URL(page.url()).pathname.startsWith("/advisory/login/second-factor"), page.url());
  };
  // Every member enrols the app first.
  await login();
  const secret = await page.locator("[data-secret]").getAttribute("data-secret");
  await page.fill("input[name=code]", await generate({ secret }));
  await page.click("form button[type=submit]");
  await page.click("a[href^='/advisory?']");

  await page.goto(`${base}/advisory/passkeys?lang=nn`);
  await page.fill("input[name=name]", "Jobbtelefon");
  await page.click("#passkey-add button[type=submit]");
  await page.waitForSelector("td:has-text('Jobbtelefon')");
  const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
  assert.equal(credentials.length, 1);
  await page.screenshot({ path: join(shots, "18-advisory-passkeys.png"), fullPage: true });

  await page.click("form[action='/advisory/logout'] button");
  await login();
  await page.click("#passkey-login button");
  await page.waitForURL((u) => u.pathname === "/advisory");
  assert.match(await page.textContent("body"), /siri/);
  await context.close();
});
