// Varde in a real browser: a technician registers a sample, a reviewer publishes the warning, the public and the
// person who brought the sample read it. Playwright (playwright-core) drives Debian's Chromium; axe-core checks
// every page kind for WCAG 2.1 AA violations. Screenshots of each step go to artifacts/browser/.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";
import vnuJar from "vnu-jar";
import { generate } from "otplib";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const bin = process.env.VARDE_BIN ?? join(root, "target", "debug", "varde");
const shots = join(root, "artifacts", "browser");
mkdirSync(shots, { recursive: true });
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

const dir = mkdtempSync(join(tmpdir(), "varde-browser-"));
const db = `sqlite://${join(dir, "v.db")}`;
// The advisory unit's module, with its own database and key file.
const advisory = ["--advisory-database", `sqlite://${join(dir, "advisory.db")}`, "--advisory-key-file", join(dir, "advisory.key")];
const varde = (args, input) => {
  const r = spawnSync(bin, ["--database", db, ...advisory, ...args], { input, encoding: "utf8", env: { ...process.env, VARDE_LOG: "warn" } });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
};

let server, base, browser;

before(async () => {
  varde(["service", "add", "oslo-brukerrom", "--name", "Oslo brukerrom", "--kind", "user_room", "--kommune", "0301"]);
  varde(["user", "add", "tina", "--role", "technician", "--service", "oslo-brukerrom"], "tekniker-passord-123\n");
  varde(["user", "add", "rolf", "--role", "reviewer"], "reviewer-passord-123\n");
  varde(["user", "add", "anne", "--role", "admin"], "admin-passord-12345\n");
  varde(["user", "add", "vera", "--role", "reviewer"], "reviewer-passord-456\n");
  writeFileSync(join(dir, "advisory.key"), varde(["advisory", "key"]));
  varde(["advisory", "user", "siri", "--role", "lead", "--kommune", "0301"], "radgivning-passord-1\n");
  server = spawn(bin, ["--database", db, ...advisory, "serve", "--listen", "127.0.0.1:0"], { env: { ...process.env, VARDE_LOG: "warn" } });
  base = await new Promise((resolve, reject) => {
    server.stdout.on("data", (d) => {
      const m = String(d).match(/listening on (http:\/\/\S+)/);
      if (m) resolve(m[1]);
    });
    server.on("exit", (code) => reject(new Error(`varde exited ${code}`)));
  });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  await browser?.close();
  server?.kill();
});

// Reviewers and admins give a second factor at every login (`serve`'s default). The first login enrols: the code is
// made by otplib (a TOTP implementation nobody here wrote) from the key the page shows, and the ten recovery codes
// are kept. Later logins use the app's code again once its time step is new (each step is accepted once), else a
// recovery code.
const factors = new Map();

async function login(page, user, password) {
  await page.goto(`${base}/login?lang=en&next=/staff`);
  await page.fill("#username", user);
  await page.fill("#password", password);
  await page.click("button[type=submit]");
  await page.waitForLoadState();
  if (!new URL(page.url()).pathname.startsWith("/login/second-factor")) return;
  const step = Math.floor(Date.now() / 30000);
  const key = await page.$("[data-secret]");
  if (key) {
    const secret = await key.getAttribute("data-secret");
    await axe(page, "second factor enrolment");
    await page.screenshot({ path: join(shots, `16-second-factor-enrolment-${user}.png`), fullPage: true });
    await page.fill("#code", await generate({ secret }));
    await page.click("form button[type=submit]");
    const codes = (await page.locator("ol.recovery-codes li").allTextContents()).map((c) => c.trim());
    assert.equal(codes.length, 10, "ten recovery codes");
    await axe(page, "recovery codes");
    factors.set(user, { secret, codes, step });
    await page.click("a.button");
    return;
  }
  const f = factors.get(user);
  assert.ok(f, `${user} enrolled earlier in this run`);
  const code = step > f.step ? await generate({ secret: f.secret }) : f.codes.pop();
  f.step = Math.max(f.step, step);
  await page.fill("#code", code);
  await page.click("form button[type=submit]");
  await page.waitForLoadState();
  assert.ok(!new URL(page.url()).pathname.startsWith("/login"), `${user}'s second factor was accepted`);
}

async function axe(page, name) {
  // Through the DevTools protocol: the pages' Content-Security-Policy (rightly) refuses inline script tags.
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => await window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } }));
  const found = result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.length})`);
  assert.deepEqual(found, [], `${name}: accessibility violations`);
}

test("from a checked sample to a warning the public and the person can read", async () => {
  // 1. The technician registers "heroin" with a positive nitazene strip and notes that try to run a script.
  const tech = await browser.newContext();
  const page = await tech.newPage();
  let dialogs = 0;
  page.on("dialog", async (d) => { dialogs++; await d.dismiss(); });
  await login(page, "tina", "tekniker-passord-123");
  await page.goto(`${base}/staff?lang=en`);
  await axe(page, "sample form");
  await page.screenshot({ path: join(shots, "1-sample-form.png"), fullPage: true });
  await page.fill("#sold_as", "heroin");
  await page.selectOption("#form", "powder");
  await page.selectOption("#strip_nitazene", "positive");
  await page.fill("#notes", "<script>alert(1)</script>");
  await page.click("form.sample button[type=submit]");
  await page.waitForURL(/\/staff\/samples\//);
  const finding = await page.textContent(".finding-severe");
  assert.match(finding, /Severe alert: The nitazene strip was positive, but the product was sold as Heroin/);
  assert.equal(await page.textContent(".notes"), "<script>alert(1)</script>", "notes are shown as text");
  assert.equal(dialogs, 0, "no script ran");
  const code = await page.getAttribute(".code", "data-code");
  assert.match(code, /^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
  await axe(page, "sample page");
  await page.screenshot({ path: join(shots, "2-severe-finding.png"), fullPage: true });
  // Later the lab confirms: GC-MS names the nitazene. The findings follow at once.
  await page.selectOption("#method", "gc_ms");
  await page.fill("#main", "heroin");
  await page.fill("#other", "protonitazene");
  await page.click("text=Save the analysis");
  await page.waitForURL(/\/staff\/samples\/[0-9A-Z-]+\?/);
  assert.match(await page.textContent("body"), /Protonitazene was found, but the product was sold as Heroin/);
  await axe(page, "sample page with the analysis form");
  await page.goto(`${base}/staff/samples?lang=en`);
  assert.ok((await page.textContent("table")).includes(code), "the service's list has the sample");
  await axe(page, "sample list");
  await page.screenshot({ path: join(shots, "2b-sample-list.png"), fullPage: true });
  await page.goto(`${base}/staff/samples/${code}?lang=en`);
  await page.click("text=Result card");
  assert.ok(await page.$(".card svg"), "the card has a QR code");
  await page.screenshot({ path: join(shots, "3-result-card.png"), fullPage: true });

  // 2. The reviewer publishes the draft.
  const rev = await browser.newContext();
  const rp = await rev.newPage();
  await login(rp, "rolf", "reviewer-passord-123");
  assert.ok(factors.has("rolf"), "the reviewer enrolled a second factor at the first login");
  await rp.goto(`${base}/review?lang=en`);
  await axe(rp, "review queue");
  await rp.click("ol.queue a");
  await axe(rp, "draft");
  await rp.screenshot({ path: join(shots, "4-draft.png"), fullPage: true });
  const title = await rp.inputValue("#title_en");
  await rp.click("text=Publish");
  // Publishing asks first, showing the headline as an SMS, the e-mail and the page.
  await rp.waitForSelector("text=Publish this warning?");
  await axe(rp, "publication to confirm");
  await rp.screenshot({ path: join(shots, "4b-confirm-publication.png"), fullPage: true });
  await rp.click("button:has-text('Yes, publish now')");
  await rp.waitForURL(/\/alerts\/\d+/);
  await rp.screenshot({ path: join(shots, "5-published.png"), fullPage: true });

  // The analysts' and admins' pages pass the accessibility checks too.
  await rp.goto(`${base}/analyst?lang=nn`);
  await axe(rp, "analyst");
  const adm = await (await browser.newContext()).newPage();
  await login(adm, "anne", "admin-passord-12345");
  await adm.goto(`${base}/admin?lang=en`);
  await axe(adm, "admin");
  await adm.screenshot({ path: join(shots, "8-admin.png"), fullPage: true });

  // 3. The public list and the Atom feed show it.
  const pub = await (await browser.newContext()).newPage();
  await pub.goto(`${base}/alerts?lang=en`);
  assert.ok((await pub.textContent("ul.alerts")).includes(title));
  await axe(pub, "public alerts");
  await pub.screenshot({ path: join(shots, "6-public-list.png"), fullPage: true });
  const atom = await (await fetch(`${base}/alerts.atom?lang=en`)).text();
  assert.ok(atom.includes("<feed") && atom.includes(title.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")));
  await pub.click("ul.alerts a");
  await axe(pub, "alert detail");

  // 4. The person looks up their code, typed in lower case without hyphens.
  await pub.goto(`${base}/result?lang=en`);
  await axe(pub, "result look-up");
  await pub.fill("#code", code.replace(/-/g, "").toLowerCase());
  await pub.click("form button[type=submit]");
  const resultText = await pub.textContent("main");
  assert.match(resultText, /nitazene strip was positive/);
  assert.match(resultText, /Protonitazene was found/, "the lab's confirmation is part of the result");
  assert.ok(!(await pub.content()).includes("&lt;script&gt;alert(1)"), "the person does not see the technician's notes");
  await axe(pub, "result");
  await pub.screenshot({ path: join(shots, "7-result.png"), fullPage: true });

  // The other public pages, in all three languages.
  for (const lang of ["nb", "nn", "en"]) {
    for (const path of ["/dashboard", "/concern", "/open-data", "/login", "/substances", "/substances/protonitazene"]) {
      await pub.goto(`${base}${path}?lang=${lang}`);
      await axe(pub, `${path} (${lang})`);
    }
  }
});

// A pink pill-shaped PNG, for a photo upload.
const PILL_PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAADAAAAAgCAIAAADbtmxLAAAAkUlEQVR4nO3YzQ2AMAgG0I7tYA7mBnptKCBS5CeBcO73LqSl405WIxoAawt0HSfVfiAGYYKTghQOnewdZEKRsziQOUXCIkG/ahgTDnLQUCYE5KZBTRDkrFlNI1wDTA2SgwI1s6lBDbIDpZuyBglAUaYZkP62dzat0UVejA4mKrTU1mHOkgSV3Vy/4tRnpvv9eADt76Bwu8nYMAAAAABJRU5ErkJggg==",
  "base64",
);

async function api(path, token, body) {
  const res = await fetch(`${base}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  assert.ok(res.ok, `${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

const mdma = (colour, mg) => ({
  service: "oslo-brukerrom", sold_as: ["mdma"], form: "tablet", colour, tablet: { logo: "Tesla", mass_mg: 350 },
  analyses: [{ method: "ftir", components: [{ substance: "mdma", role: "main", amount: { value: mg, unit: "mg" } }] }],
});

test("a reviewer works the queue: filters, merge, a pill photo, publish; warnings read on a small phone", async () => {
  const tech = varde(["token", "issue", "--role", "technician", "--service", "oslo-brukerrom"]).match(/vrd_\S+/)[0];
  const reviewer = varde(["token", "issue", "--role", "reviewer"]).match(/vrd_\S+/)[0];
  const pink = await api("/api/v1/samples", tech, mdma("rosa", 285));
  const blue = await api("/api/v1/samples", tech, mdma("blå", 270));
  const fentanyl = await api("/api/v1/samples", tech, {
    service: "oslo-brukerrom", sold_as: ["heroin"], form: "powder", colour: "brun",
    analyses: [{ method: "ftir", components: [{ substance: "heroin", role: "main" }, { substance: "fentanyl", role: "trace" }] }],
  });

  // The technician photographs the pink tablet.
  const tp = await (await browser.newContext()).newPage();
  await login(tp, "tina", "tekniker-passord-123");
  await tp.goto(`${base}/staff/samples/${pink.code}?lang=en`);
  await tp.setInputFiles("#photo", { name: "pill.png", mimeType: "image/png", buffer: PILL_PNG });
  await tp.click("form:has(#photo) button[type=submit]");
  await tp.waitForURL(/\/staff\/samples\//);

  // The reviewer's queue: most urgent first; filtered to entactogens.
  const rp = await (await browser.newContext()).newPage();
  await login(rp, "rolf", "reviewer-passord-123");
  await rp.goto(`${base}/review?lang=en`);
  await axe(rp, "review queue with drafts");
  await rp.screenshot({ path: join(shots, "9-review-queue.png"), fullPage: true });
  const first = await rp.textContent("ol.queue li:first-child");
  assert.match(first, /Severe alert/, "the severe fentanyl draft is first");
  await rp.selectOption("#q-class", "entactogen");
  await rp.click("form.filters button[type=submit]");
  await rp.waitForURL(/class=entactogen/);
  assert.equal(await rp.locator("ol.queue li").count(), 2, "the two MDMA drafts");
  await axe(rp, "filtered queue");

  // Merge the blue tablets' draft into the pink ones', choose the photo, publish.
  const pinkId = pink.alert_drafts[0].id;
  const blueId = blue.alert_drafts[0].id;
  await rp.goto(`${base}/review/${blueId}?lang=en`);
  assert.equal(await rp.inputValue("#merge-into"), "", "no merge target is chosen beforehand");
  await rp.selectOption("#merge-into", String(pinkId));
  await rp.click("form:has(#merge-into) button[type=submit]");
  await rp.waitForSelector("text=Merge these drafts?");
  await rp.click("button:has-text('Yes, merge')");
  await rp.waitForURL(new RegExp(`/review/${pinkId}`));
  assert.match(await rp.textContent("body"), /2 samples/);
  await rp.click("button:has-text(\"Use this photo in the alert\")");
  await rp.waitForURL(new RegExp(`/review/${pinkId}`));
  await axe(rp, "draft with a chosen photo");
  // The reviewer edits the English headline and publishes without pressing Save: the edit goes out with it.
  const headline = rp.locator("#title_en");
  await headline.fill(`${await headline.inputValue()} (checked by a reviewer)`);
  await rp.click("text=Publish");
  await rp.waitForSelector("text=Publish this warning?");
  assert.match(await rp.textContent("main"), /\(checked by a reviewer\)/, "the confirmation shows the headline as typed");
  await rp.click("button:has-text('Yes, publish now')");
  await rp.waitForURL(/\/alerts\/\d+/);
  assert.match(await rp.textContent("h1"), /High-dose MDMA tablets: 285 mg.*\(checked by a reviewer\)/);
  const img = rp.locator("figure.photo img");
  assert.ok(await img.evaluate((el) => el.complete && el.naturalWidth > 0), "the photo loads");
  await axe(rp, "published MDMA dose alert with photo");
  await rp.screenshot({ path: join(shots, "10-mdma-alert-with-photo.png"), fullPage: true });
  // The poster an outreach worker prints.
  await rp.click("text=Poster to print");
  await rp.waitForURL(/\/poster/);
  assert.ok(await rp.$(".poster svg"), "the poster has a QR code");
  await axe(rp, "poster");
  await rp.emulateMedia({ media: "print" });
  await rp.screenshot({ path: join(shots, "10b-poster-print.png"), fullPage: true });
  await rp.emulateMedia({ media: "screen" });

  // The fentanyl warning on a 360 px wide phone.
  const fid = fentanyl.alert_drafts[0].id;
  await api(`/api/v1/alerts/${fid}/publish`, reviewer, {});
  const phone = await (await browser.newContext({ viewport: { width: 360, height: 740 }, deviceScaleFactor: 2 })).newPage();
  await phone.goto(`${base}/alerts/${fid}?lang=nb`);
  assert.match(await phone.textContent("main"), /nalokson/);
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `no sideways scrolling on a small phone (${overflow} px)`);
  await axe(phone, "fentanyl alert on a phone");
  await phone.screenshot({ path: join(shots, "11-fentanyl-alert-360px.png"), fullPage: true });
});

// Item 13's budget, measured: from the login page to the printed result card for an MDMA pill, with the keyboard
// only, every key counted (a character typed is one press, a Tab one, Ctrl+P one). The password is as short as a
// password may be (12 characters). What is typed: sold as, form, colour, logo, what FTIR found and how much; the
// tablet's mass is optional (3 more keys). The figure is printed and written in docs/benchmarks.md.
test("a technician gets from the login to the printed result card of an MDMA pill in at most 50 key presses", async () => {
  varde(["user", "add", "kari", "--role", "technician", "--service", "oslo-brukerrom"], "mdma-kort-12\n");
  const page = await (await browser.newContext()).newPage();
  let presses = 0;
  const type = async (text) => { presses += [...text].length; await page.keyboard.type(text); };
  const press = async (key) => { presses += 1; await page.keyboard.press(key); };
  const focused = (id) => page.waitForFunction((id) => document.activeElement?.id === id, id, { timeout: 5000 });
  await page.goto(`${base}/login?lang=en&next=/staff`);
  // The login page puts the focus in its first field.
  await focused("username");
  await type("kari"); await press("Tab"); await type("mdma-kort-12"); await press("Enter");
  await page.waitForURL((url) => url.pathname === "/staff");
  // The sample form has the focus in "sold as".
  await focused("sold_as");
  await type("MDMA"); await press("Tab");
  await type("t"); await press("Tab"); // the form: "t" picks Tablet
  await type("pink"); await press("Tab");
  await type("Tesla"); await press("Tab");
  await press("Tab"); // the tablet's mass, left empty
  await type("MDMA"); await press("Tab"); // the main substance FTIR found
  await type("285"); await press("Enter"); // its mg per tablet, and Enter registers
  await page.waitForURL(/\/staff\/samples\/[0-9A-Z-]+\?/);
  const registered = await page.textContent("dl.registered");
  assert.match(registered, /tablet/i, "typing t chose the tablet");
  assert.match(registered, /Tesla/);
  assert.match(await page.textContent("table.analyses"), /MDMA.*285 mg/);
  assert.match(await page.textContent(".finding"), /contains 285 mg of MDMA/, "the dose reached the risk policy");
  // The result card has the focus: Enter opens it, Ctrl+P prints it (counted; headless Chromium has no print
  // dialog, so the page is rendered for print instead).
  await page.waitForFunction(() => document.activeElement?.matches("a.button[href*='/card']"), null, { timeout: 5000 });
  await press("Enter");
  await page.waitForURL(/\/card\?/);
  presses += 1;
  await page.emulateMedia({ media: "print" });
  assert.match(await page.textContent(".card"), /MDMA/);
  await page.screenshot({ path: join(shots, "15-mdma-card-by-keyboard-print.png"), fullPage: true });
  console.log(`key presses, login to printed MDMA result card: ${presses}`);
  assert.ok(presses <= 50, `${presses} key presses (budget 50)`);
});

test("the advisory unit: a referral, an invitation letter, a meeting, the notice, the person's access, the counts", async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${base}/advisory/login?lang=nn`);
  await axe(page, "advisory login");
  await page.fill("input[name=username]", "siri");
  await page.fill("input[name=password]", "radgivning-passord-1");
  await page.click("button[type=submit]");
  // Every member of the unit gives a second factor; the first login enrols (the code made by otplib).
  await page.waitForURL(/\/advisory\/login\/second-factor/);
  await axe(page, "advisory second factor enrolment");
  await page.screenshot({ path: join(shots, "19-advisory-second-factor-nn.png"), fullPage: true });
  const secret = await page.getAttribute("[data-secret]", "data-secret");
  await page.fill("input[name=code]", await generate({ secret }));
  await page.click("button[type=submit]");
  assert.equal(await page.locator("ol.recovery-codes li").count(), 10, "ten recovery codes");
  await page.click("main a");
  await page.waitForURL(/\/advisory\?lang=nn/);
  await axe(page, "advisory today");
  const day = (offset) => new Date(Date.now() + offset * 86400000).toISOString().slice(0, 10);
  await page.goto(`${base}/advisory/cases/new?lang=en`);
  await axe(page, "new referral");
  await page.fill("input[name=case_reference]", "POL-2026-991");
  await page.fill("input[name=decision_date]", day(-7));
  await page.fill("input[name=period_start]", day(-7));
  await page.fill("input[name=period_end]", day(170));
  await page.fill("input[name=name]", "Ola Testperson");
  await page.fill("input[name=fnr]", "15058912317");
  await page.fill("input[name=contact]", "Storgata 2, 0155 Oslo");
  await page.click("form button[type=submit] >> nth=-1");
  await page.waitForURL(/\/advisory\/cases\/\d+/);
  const caseUrl = page.url().split("?")[0];
  await axe(page, "advisory case");
  await page.fill("form:has(input[value=invitation]) input[name=at]", `${day(2)}T10:30`);
  await page.fill("form:has(input[value=invitation]) input[name=place]", "Rådhusgata 5");
  await page.click("form:has(input[value=invitation]) button[type=submit]");
  await page.waitForURL(/\/advisory\/cases\/\d+/);
  await page.click("text=Letter");
  assert.match(await page.textContent("main"), /You are invited .* 10:30, Rådhusgata 5/);
  await axe(page, "invitation letter");
  await page.emulateMedia({ media: "print" });
  await page.screenshot({ path: join(shots, "12-advisory-letter-print.png"), fullPage: true });
  await page.emulateMedia({ media: "screen" });
  await page.goto(`${caseUrl}?lang=en`);
  await page.fill("form:has(input[value=meeting]) input[name=at]", `${day(-1)}T09:00`);
  await page.selectOption("form:has(input[value=meeting]) select[name=attendance]", "attended");
  await page.check("form:has(input[value=meeting]) input[value=harms_information]");
  await page.click("form:has(input[value=meeting]) button[type=submit]");
  await page.waitForURL(/\/advisory\/cases\/\d+/);
  await page.click("text=Make and record the notice");
  await page.waitForURL(/\/notice\/\d+/);
  const notice = await page.textContent("main");
  assert.match(notice, /POL-2026-991/);
  assert.doesNotMatch(notice, /Rådhusgata|harms/, "the notice says only the fact");
  await axe(page, "notice to the prosecutor");
  await page.goto(`${caseUrl}/access?lang=nb`);
  assert.match(await page.textContent("main"), /15058912317/);
  await axe(page, "right of access");
  await page.goto(`${base}/advisory/counts?lang=nb`);
  assert.match(await page.textContent("table"), /&lt;5|<5/);
  await axe(page, "advisory counts");
  await page.screenshot({ path: join(shots, "13-advisory-counts.png"), fullPage: true });
});

test("every page type fits a 360 px phone and is valid HTML to the Nu Html Checker", async () => {
  const phone = { viewport: { width: 360, height: 740 }, deviceScaleFactor: 2 };
  const overflow = async (page) =>
    page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  // Each page's source as the server sent it (with the page's cookies), for the Nu Html Checker below.
  const sources = mkdtempSync(join(tmpdir(), "varde-html-"));
  let n = 0;
  const visit = async (page, path, seen) => {
    await page.goto(`${base}${path}`);
    seen.push([path, await overflow(page)]);
    const source = await (await page.context().request.get(`${base}${path}`)).text();
    writeFileSync(join(sources, `${String(++n).padStart(2, "0")}-${path.replace(/[^a-z0-9]+/gi, "_")}.html`), source);
  };
  const seen = [];
  // The public's pages, with an alert and a sample the earlier tests made.
  const pub = await (await browser.newContext(phone)).newPage();
  const alerts = await (await fetch(`${base}/api/v1/alerts`)).json();
  assert.ok(alerts.length > 0, "an alert to show");
  const id = alerts[0].id;
  for (const path of ["/alerts?lang=nb", `/alerts/${id}?lang=nb`, `/alerts/${id}/poster?lang=nb`, "/result?lang=nb",
    "/substances?lang=nb", "/substances/mdma?lang=nb", "/dashboard?lang=nb", "/concern?lang=nb", "/open-data?lang=nb",
    "/login?lang=nb"]) {
    await visit(pub, path, seen);
  }
  // Each role's pages.
  const tech = await (await browser.newContext(phone)).newPage();
  await login(tech, "tina", "tekniker-passord-123");
  await tech.goto(`${base}/staff/samples?lang=nb`);
  const sample = await tech.getAttribute("table a[href^='/staff/samples/']", "href");
  for (const path of ["/staff?lang=nb", "/staff/samples?lang=nb", `${sample.split("?")[0]}?lang=nb`, "/staff/user-room?lang=nb"]) {
    await visit(tech, path, seen);
  }
  const rev = await (await browser.newContext(phone)).newPage();
  await login(rev, "rolf", "reviewer-passord-123");
  for (const path of ["/review?lang=nb", `/review/${id}?lang=nb`, "/analyst?lang=nb", "/sessions?lang=nb"]) {
    await visit(rev, path, seen);
  }
  const adm = await (await browser.newContext(phone)).newPage();
  await login(adm, "anne", "admin-passord-12345");
  await visit(adm, "/admin?lang=nb", seen);
  // A reviewer's first login on a phone, in nynorsk: the second factor's enrolment, then the recovery codes.
  const first = await (await browser.newContext(phone)).newPage();
  await first.goto(`${base}/login?lang=nn&next=/review`);
  await first.fill("#username", "vera");
  await first.fill("#password", "reviewer-passord-456");
  await first.click("button[type=submit]");
  await first.waitForURL(/\/login\/second-factor/);
  await visit(first, "/login/second-factor?lang=nn&next=/review", seen);
  await first.screenshot({ path: join(shots, "17-second-factor-enrolment-nn-360px.png"), fullPage: true });
  await first.fill("#code", await generate({ secret: await first.getAttribute("[data-secret]", "data-secret") }));
  await first.click("form button[type=submit]");
  await first.waitForSelector("ol.recovery-codes");
  seen.push(["recovery codes", await overflow(first)]);
  writeFileSync(join(sources, `${String(++n).padStart(2, "0")}-recovery-codes.html`), await first.content());
  await first.screenshot({ path: join(shots, "18-recovery-codes-nn-360px.png"), fullPage: true });
  await rev.goto(`${base}/dashboard?lang=nb`);
  await rev.screenshot({ path: join(shots, "14-dashboard-360px.png"), fullPage: true });
  // No chart label or value drawn past its chart's edge, on the phone and on a wide screen.
  const cut = async (page) => page.evaluate(() => [...document.querySelectorAll("figure.chart svg")].flatMap((svg) => {
    const box = svg.viewBox.baseVal;
    return [...svg.querySelectorAll("text")].map((t) => [t.textContent, t.getBBox()])
      .filter(([, b]) => b.x < box.x || b.x + b.width > box.x + box.width).map(([text]) => text);
  }));
  assert.deepEqual(await cut(rev), [], "chart labels cut at 360 px");
  const desk = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  await desk.goto(`${base}/dashboard?lang=nb`);
  assert.deepEqual(await cut(desk), [], "chart labels cut at 1280 px");
  const wide = seen.filter(([, px]) => px > 0);
  assert.deepEqual(wide, [], `pages wider than a 360 px phone (path, extra px): ${JSON.stringify(seen)}`);
  // The Nu Html Checker (vnu-jar, the W3C's validator) on every page type: no errors.
  const files = readdirSync(sources).map((f) => join(sources, f));
  const vnu = spawnSync("java", ["-jar", vnuJar, "--errors-only", "--format", "text", ...files], { encoding: "utf8" });
  assert.equal(vnu.status, 0, `the Nu Html Checker found errors:\n${vnu.stderr}${vnu.stdout}`);
});
