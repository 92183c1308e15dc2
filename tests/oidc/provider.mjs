// A real OpenID Provider for Varde's sign-in tests (crates/varde/tests/api/sign_in.rs): the OpenID-certified
// `oidc-provider`, on a free port of 127.0.0.1, with two clients as Norwegian services register Varde:
//   varde-secret  client_secret_basic  (as ID-porten and Entra ID allow)
//   varde-key     private_key_jwt      (as HelseID requires), its key pair made here and the private half written
//                                      to the file named by VARDE_OIDC_CLIENT_KEY (PKCS#8 PEM), and beside it with
//                                      `.jwk` added as a JWK, for Varde to sign with.
// Both may return to VARDE_OIDC_REDIRECTS (comma-separated).
//
// Logging in is automatic: the test follows the redirects itself and adds `?login=NAME` at the interaction step, and
// NAME's claims come from VARDE_OIDC_ACCOUNTS (JSON: {"NAME": {"sub": ..., "groups": [...], ...}}).
//
// A broken or hostile provider is played by `POST /__tamper/MODE`: the next token response's ID token is replaced by
// a forged one — `aud` (for another client), `iss` (from another issuer), `exp` (expired an hour ago), `none`
// (`alg: none`, unsigned), `key` (signed with a key the provider never published, under the published key's id).
// Everything but the forged claim is the real token's, so only that one fault can make Varde refuse it.
//
// Prints one JSON line when it listens: {"issuer": "http://127.0.0.1:PORT"}.
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import Provider from 'oidc-provider';
import * as jose from 'jose';

const accounts = JSON.parse(process.env.VARDE_OIDC_ACCOUNTS ?? '{}');
const redirects = (process.env.VARDE_OIDC_REDIRECTS ?? '').split(',').filter(Boolean);

// The provider's signing key (published in its JWKS) and a stranger's key under the same key id.
const { privateKey: signing } = await jose.generateKeyPair('RS256', { extractable: true });
const signingJwk = { ...(await jose.exportJWK(signing)), kid: 'provider-1', alg: 'RS256', use: 'sig' };
const { privateKey: stranger } = await jose.generateKeyPair('RS256', { extractable: true });

// Varde's own client key for private_key_jwt.
const { publicKey: clientPublic, privateKey: clientPrivate } = await jose.generateKeyPair('RS256', { extractable: true });
if (process.env.VARDE_OIDC_CLIENT_KEY) {
  writeFileSync(process.env.VARDE_OIDC_CLIENT_KEY, await jose.exportPKCS8(clientPrivate));
  // And as the JWK HelseID's self-service portal hands out, with its key id.
  const jwk = { ...(await jose.exportJWK(clientPrivate)), kid: 'varde-1' };
  writeFileSync(`${process.env.VARDE_OIDC_CLIENT_KEY}.jwk`, JSON.stringify(jwk));
}
const clientJwk = { ...(await jose.exportJWK(clientPublic)), kid: 'varde-1', alg: 'RS256', use: 'sig' };

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'varde-secret',
      client_secret: 'a-secret-only-the-test-knows',
      token_endpoint_auth_method: 'client_secret_basic',
      redirect_uris: redirects,
      grant_types: ['authorization_code'],
      response_types: ['code'],
    },
    {
      client_id: 'varde-key',
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'RS256',
      jwks: { keys: [clientJwk] },
      redirect_uris: redirects,
      grant_types: ['authorization_code'],
      response_types: ['code'],
    },
  ],
  jwks: { keys: [signingJwk] },
  cookies: { keys: ['a-cookie-key-for-the-test-provider'] },
  claims: { openid: ['sub'], profile: ['name', 'preferred_username', 'oid'], email: ['email'], groups: ['groups'], org: ['orgnr'] },
  scopes: ['openid', 'profile', 'email', 'groups', 'org'],
  // The claims go in the ID token itself, as HelseID and Entra ID put theirs; Varde reads the ID token only.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    const claims = accounts[id];
    if (!claims) return undefined;
    return { accountId: id, claims: async () => ({ ...claims, sub: claims.sub ?? id }) };
  },
  // Consent is the organisation's, given when it registered Varde: every scope asked for is granted.
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope(ctx.oidc.params.scope);
    await grant.save();
    return grant;
  },
  renderError(ctx, out) {
    ctx.type = 'json';
    ctx.body = out;
  },
});

let tamper = null;

async function forge(idToken, mode) {
  const claims = jose.decodeJwt(idToken);
  const now = Math.floor(Date.now() / 1000);
  if (mode === 'aud') claims.aud = 'some-other-client';
  if (mode === 'iss') claims.iss = 'https://issuer.example';
  if (mode === 'exp') Object.assign(claims, { iat: now - 7200, exp: now - 3600 });
  if (mode === 'none') {
    const part = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
    return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
  }
  const key = mode === 'key' ? stranger : signing;
  return new jose.SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'provider-1' }).sign(key);
}

provider.use(async (ctx, next) => {
  await next();
  if (ctx.path === '/token' && tamper && ctx.body?.id_token) {
    const mode = tamper;
    tamper = null;
    ctx.body = { ...ctx.body, id_token: await forge(ctx.body.id_token, mode) };
  }
});

const callback = provider.callback();
server.on('request', async (req, res) => {
  const url = new URL(req.url, issuer);
  try {
    if (req.method === 'POST' && url.pathname.startsWith('/__tamper/')) {
      tamper = url.pathname.slice('/__tamper/'.length);
      res.writeHead(204).end();
      return;
    }
    if (url.pathname.startsWith('/interaction/')) {
      const details = await provider.interactionDetails(req, res);
      if (details.prompt.name !== 'login') throw new Error(`unexpected prompt ${details.prompt.name}`);
      const login = url.searchParams.get('login');
      const result = accounts[login]
        ? { login: { accountId: login } }
        : { error: 'access_denied', error_description: 'no such account' };
      await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
      return;
    }
    callback(req, res);
  } catch (e) {
    res.writeHead(500, { 'content-type': 'text/plain' }).end(String(e));
  }
});

console.log(JSON.stringify({ issuer }));
