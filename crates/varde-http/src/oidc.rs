//! Signing staff in through their organisation's OpenID Provider: HelseID for the health services, ID-porten, or a
//! kommune's Microsoft Entra ID. The authorization code flow with PKCE (the `openidconnect` crate), a `state` and a
//! `nonce` per sign-in kept in a short-lived cookie of the browser that started it, and the ID token verified as the
//! crate does it — the provider's published keys (fetched again once when a token names a key not yet seen, for a
//! provider that rotated its keys), issuer, audience, expiry, nonce; `alg: none` is never accepted.
//!
//! What comes out is who the provider vouches for ([`Vouched`]); what they may do in Varde is the sign-in rules'
//! business (`varde_domain::sign_in`, kept by an admin). Every refusal has a stable reason ([`Refusal`]) the pages
//! translate and the audit log keeps.
//!
//! The issuers are an operator's file (`serve --oidc FILE`, TOML; docs/operations.md): Varde connects to no provider
//! but the ones named there, follows no redirect, and gives up after ten seconds.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthType, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError,
    Scope, SignatureVerificationError, TokenResponse,
};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a provider's discovery document and keys are kept before they are fetched again.
const METADATA_TTL: Duration = Duration::from_secs(3600);
/// The shortest time between two fetches of a provider's keys for tokens that name an unknown one.
const REFRESH_AT_MOST: Duration = Duration::from_secs(60);
/// How long Varde waits for a provider.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a sign-in may take from leaving Varde to coming back, in seconds (the flow cookie's life).
pub const FLOW_SECONDS: i64 = 600;

/// How Varde proves to the provider's token endpoint that it is the registered client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    /// A shared secret in the `Authorization` header (ID-porten, Entra ID).
    ClientSecretBasic,
    /// A shared secret in the form body (ID-porten, Entra ID).
    ClientSecretPost,
    /// A JWT signed with Varde's own private key, whose public half the provider holds (RFC 7523; HelseID requires
    /// it, ID-porten and Entra ID offer it).
    PrivateKeyJwt,
}

/// One provider as the operator's file names it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerConfig {
    /// The name in addresses (`/login/oidc/NAME`) and in sign-in rules: 1-32 of a-z, 0-9 and '-'.
    pub name: String,
    /// What the login page's button says ("HelseID").
    pub label: String,
    /// The issuer identifier; its discovery document is at `ISSUER/.well-known/openid-configuration`.
    pub issuer: String,
    pub client_id: String,
    pub client_auth: ClientAuth,
    /// The environment variable that holds the client secret (never this file itself: it is often world-readable).
    #[serde(default)]
    pub client_secret_env: Option<String>,
    /// Or a file that holds it (a systemd credential, a mounted Kubernetes secret); its content, trimmed.
    #[serde(default)]
    pub client_secret_file: Option<PathBuf>,
    /// Varde's RSA private key for `private_key_jwt`: PEM (PKCS#8 or PKCS#1), or a JWK as HelseID's self-service
    /// portal hands it out; signed with RS256.
    #[serde(default)]
    pub private_key_file: Option<PathBuf>,
    /// The key's id as registered with the provider, sent as the assertion's `kid` (a JWK's own `kid` otherwise).
    #[serde(default)]
    pub key_id: Option<String>,
    /// For Entra ID, which names a certificate rather than a key id: the certificate's SHA-256 thumbprint,
    /// base64url, sent as the assertion's `x5t#S256`.
    #[serde(default)]
    pub certificate_thumbprint: Option<String>,
    /// Scopes beyond `openid` (e.g. `profile`, `helseid://scopes/identity/security_level`, `groups`).
    #[serde(default)]
    pub scopes: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IssuersFile {
    #[serde(default)]
    issuer: Vec<IssuerConfig>,
}

enum Credential {
    Secret(String),
    Key { key: Box<rsa::RsaPrivateKey>, kid: Option<String> },
}

/// An RSA private key from PEM (PKCS#8 or PKCS#1) or a JWK; with a JWK, its `kid`.
fn private_key(text: &str) -> Result<(rsa::RsaPrivateKey, Option<String>), String> {
    if !text.trim_start().starts_with('{') {
        let key = rsa::RsaPrivateKey::from_pkcs8_pem(text)
            .or_else(|_| rsa::RsaPrivateKey::from_pkcs1_pem(text))
            .map_err(|e| format!("not an RSA private key in PEM: {e}"))?;
        return Ok((key, None));
    }
    let jwk: Map<String, Value> = serde_json::from_str(text).map_err(|e| format!("not a JWK: {e}"))?;
    if jwk.get("kty").and_then(Value::as_str) != Some("RSA") {
        return Err("a JWK of kty RSA is needed".into());
    }
    let part = |name: &str| -> Result<rsa::BigUint, String> {
        let b64 = jwk.get(name).and_then(Value::as_str).ok_or_else(|| format!("the JWK has no '{name}'"))?;
        let bytes = URL_SAFE_NO_PAD.decode(b64).map_err(|e| format!("the JWK's '{name}': {e}"))?;
        Ok(rsa::BigUint::from_bytes_be(&bytes))
    };
    let key = rsa::RsaPrivateKey::from_components(part("n")?, part("e")?, part("d")?, vec![part("p")?, part("q")?])
        .map_err(|e| format!("the JWK is not a valid RSA key: {e}"))?;
    Ok((key, jwk.get("kid").and_then(Value::as_str).map(str::to_owned)))
}

struct Issuer {
    config: IssuerConfig,
    credential: Credential,
    metadata: tokio::sync::Mutex<Option<(CoreProviderMetadata, Instant)>>,
}

/// The client as the crate types it once built from a discovery document: authorization and token endpoints known
/// from the document, no others used.
type Client =
    CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;

/// The configured providers.
pub struct Issuers {
    list: Vec<Issuer>,
    http: reqwest::Client,
}

/// Why a sign-in was refused: a stable reason (translated by the pages, kept in the audit log) and what exactly
/// happened, for the operator's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub reason: &'static str,
    pub detail: String,
}

impl Refusal {
    fn new(reason: &'static str, detail: impl Into<String>) -> Refusal {
        Refusal { reason, detail: detail.into() }
    }
}

/// Every reason a sign-in through a provider can be refused at the HTTP edge, for the pages' translations.
pub const REASONS: &[&str] = &[
    "unknown_issuer",
    "unavailable",
    "state",
    "provider",
    "code",
    "token",
    "signature",
    "audience",
    "issuer",
    "expired",
    "nonce",
];

static TEXTS: std::sync::LazyLock<crate::i18n::Texts> =
    std::sync::LazyLock::new(|| crate::i18n::Texts::parse("i18n/sign_in.toml", include_str!("../i18n/sign_in.toml")));

/// A sign-in text in the language with code `lang` (`nb`, `nn` or `en`; bokmål for any other): `with` ("Sign in
/// with"), `signed_in`, `continue`, `refused`, `again`, and `refused_REASON` for each refusal's reason.
pub fn text(lang: &str, key: &str) -> &'static str {
    TEXTS.get(lang, key)
}

/// What the browser carries between leaving for the provider and coming back: which provider, the `state` the
/// answer must carry, the `nonce` the ID token must carry, and the PKCE verifier only this browser knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flow {
    pub issuer: String,
    state: String,
    nonce: String,
    verifier: String,
    /// Where to go afterwards (a path on this site, checked by the caller).
    pub next: Option<String>,
    /// The language of the page the sign-in started from.
    pub lang: String,
}

impl Flow {
    /// The cookie's value.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).expect("a flow serialises"))
    }

    pub fn decode(value: &str) -> Option<Flow> {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(value).ok()?).ok()
    }
}

/// The provider's answer at the redirect address, as its query carries it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    /// The issuer of the answer (RFC 9207), where the provider sends it: it must be the one the flow went to.
    pub iss: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// Who a provider vouched for, from an ID token that verified.
#[derive(Debug, Clone)]
pub struct Vouched {
    /// The configured name of the issuer.
    pub issuer: String,
    /// The provider's subject identifier for the person (`sub`), stable per provider (and per client at ID-porten).
    pub subject: String,
    /// Every claim of the ID token.
    pub claims: Map<String, Value>,
}

impl Vouched {
    /// The username Varde gives a person at their first sign-in: the issuer's name and a digest of the subject —
    /// stable, unique, and never a name, e-mail address or national identity number, which providers' claims may
    /// carry and Varde's audit log must not.
    pub fn username(&self) -> String {
        let digest = Sha256::digest(format!("{}\n{}", self.issuer, self.subject).as_bytes());
        format!("{}-{}", self.issuer, &hex::encode(digest)[..16])
    }
}

impl std::fmt::Debug for Issuers {
    /// The providers' names only: never a secret or a key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.list.iter().map(|i| &i.config.name)).finish()
    }
}

impl Issuers {
    /// None configured: only local passwords.
    pub fn none() -> Issuers {
        Issuers { list: Vec::new(), http: reqwest::Client::new() }
    }

    /// Reads the operator's file, and each provider's client secret (from its environment variable) or private key
    /// (from its file), so that a missing one stops the server at its start rather than at someone's sign-in.
    pub fn load(path: &Path) -> Result<Issuers, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let file: IssuersFile = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        Issuers::new(file.issuer)
    }

    pub fn new(configs: Vec<IssuerConfig>) -> Result<Issuers, String> {
        let mut list: Vec<Issuer> = Vec::new();
        for config in configs {
            let valid = (1..=32).contains(&config.name.len())
                && config.name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !valid {
                return Err(format!("issuer name '{}': 1-32 of a-z, 0-9 and '-'", config.name));
            }
            if list.iter().any(|i| i.config.name == config.name) {
                return Err(format!("issuer '{}' is named twice", config.name));
            }
            IssuerUrl::new(config.issuer.clone()).map_err(|e| format!("issuer '{}': {e}", config.name))?;
            let credential = match config.client_auth {
                ClientAuth::PrivateKeyJwt => {
                    let file = config
                        .private_key_file
                        .as_ref()
                        .ok_or_else(|| format!("issuer '{}': private_key_jwt needs private_key_file", config.name))?;
                    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
                    let (key, kid) = private_key(&text).map_err(|e| format!("{}: {e}", file.display()))?;
                    Credential::Key { key: Box::new(key), kid: config.key_id.clone().or(kid) }
                }
                ClientAuth::ClientSecretBasic | ClientAuth::ClientSecretPost => {
                    let secret = match (&config.client_secret_env, &config.client_secret_file) {
                        (Some(var), None) => {
                            std::env::var(var).map_err(|_| format!("issuer '{}': ${var} is not set", config.name))?
                        }
                        (None, Some(file)) => std::fs::read_to_string(file)
                            .map_err(|e| format!("{}: {e}", file.display()))?
                            .trim()
                            .to_owned(),
                        _ => {
                            return Err(format!(
                                "issuer '{}': a client secret needs one of client_secret_env and client_secret_file",
                                config.name
                            ));
                        }
                    };
                    Credential::Secret(secret)
                }
            };
            list.push(Issuer { config, credential, metadata: tokio::sync::Mutex::new(None) });
        }
        let http = reqwest::Client::builder()
            // A provider's answer that redirects elsewhere is refused, not followed (and the crate asks for this).
            .redirect(reqwest::redirect::Policy::none())
            .timeout(PROVIDER_TIMEOUT)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Issuers { list, http })
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Each provider's name and the label of its button, in the file's order.
    pub fn buttons(&self) -> impl Iterator<Item = (&str, &str)> {
        self.list.iter().map(|i| (i.config.name.as_str(), i.config.label.as_str()))
    }

    fn issuer(&self, name: &str) -> Result<&Issuer, Refusal> {
        self.list
            .iter()
            .find(|i| i.config.name == name)
            .ok_or_else(|| Refusal::new("unknown_issuer", format!("no issuer named '{name}' is configured")))
    }

    /// The provider's discovery document, fetched at first use and again after an hour, or when `refresh` and it is
    /// over a minute old: a token naming a key nobody published makes Varde ask the provider at most once a minute.
    async fn metadata(&self, issuer: &Issuer, refresh: bool) -> Result<CoreProviderMetadata, Refusal> {
        let mut cached = issuer.metadata.lock().await;
        if let Some((metadata, at)) = cached.as_ref() {
            let age = at.elapsed();
            if age < METADATA_TTL && (!refresh || age < REFRESH_AT_MOST) {
                return Ok(metadata.clone());
            }
        }
        let url =
            IssuerUrl::new(issuer.config.issuer.clone()).map_err(|e| Refusal::new("unavailable", e.to_string()))?;
        let metadata = CoreProviderMetadata::discover_async(url, &self.http)
            .await
            .map_err(|e| Refusal::new("unavailable", format!("discovery at {}: {e}", issuer.config.issuer)))?;
        *cached = Some((metadata.clone(), Instant::now()));
        Ok(metadata)
    }

    fn client(&self, issuer: &Issuer, metadata: CoreProviderMetadata, redirect: &str) -> Result<Client, Refusal> {
        let secret = match &issuer.credential {
            Credential::Secret(s) => Some(ClientSecret::new(s.clone())),
            Credential::Key { .. } => None,
        };
        let redirect = RedirectUrl::new(redirect.to_owned()).map_err(|e| Refusal::new("unavailable", e.to_string()))?;
        let auth = match issuer.config.client_auth {
            ClientAuth::ClientSecretBasic => AuthType::BasicAuth,
            ClientAuth::ClientSecretPost | ClientAuth::PrivateKeyJwt => AuthType::RequestBody,
        };
        Ok(CoreClient::from_provider_metadata(metadata, ClientId::new(issuer.config.client_id.clone()), secret)
            .set_redirect_uri(redirect)
            .set_auth_type(auth))
    }

    /// Starts a sign-in at provider `name`, to come back to `redirect`: the address to send the browser to, and the
    /// flow for its cookie.
    pub async fn begin(
        &self,
        name: &str,
        redirect: &str,
        next: Option<String>,
        lang: &str,
    ) -> Result<(String, Flow), Refusal> {
        let issuer = self.issuer(name)?;
        let client = self.client(issuer, self.metadata(issuer, false).await?, redirect)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .set_pkce_challenge(challenge);
        for scope in &issuer.config.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.url();
        let flow = Flow {
            issuer: name.to_owned(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
            next,
            lang: lang.to_owned(),
        };
        Ok((url.to_string(), flow))
    }

    /// Ends a sign-in: the answer must belong to this browser's `flow` (its `state`, and its issuer where the
    /// provider names one); the code is exchanged with the PKCE verifier and Varde's client authentication; the ID
    /// token must verify. Who the provider vouched for, or why not.
    pub async fn finish(&self, flow: &Flow, answer: &Callback, redirect: &str) -> Result<Vouched, Refusal> {
        let issuer = self.issuer(&flow.issuer)?;
        let state_ok = answer.state.as_deref().is_some_and(|s| crate::secrets::same(s, &flow.state));
        if !state_ok {
            return Err(Refusal::new("state", "the answer's state is not this browser's sign-in"));
        }
        if let Some(error) = &answer.error {
            let description = answer.error_description.as_deref().unwrap_or("");
            return Err(Refusal::new("provider", format!("the provider answered {error}: {description}")));
        }
        if let Some(iss) = &answer.iss
            && iss != &issuer.config.issuer
        {
            return Err(Refusal::new("issuer", format!("the answer came from {iss}")));
        }
        let code = answer.code.clone().ok_or_else(|| Refusal::new("code", "the answer carries no code"))?;
        let metadata = self.metadata(issuer, false).await?;
        let client = self.client(issuer, metadata, redirect)?;
        let mut exchange = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| Refusal::new("unavailable", e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(flow.verifier.clone()));
        if let Credential::Key { key, kid } = &issuer.credential {
            exchange = exchange
                .add_extra_param("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
                .add_extra_param("client_assertion", self.assertion(issuer, key, kid.as_deref())?);
        }
        let response = exchange.request_async(&self.http).await.map_err(|e| match e {
            RequestTokenError::ServerResponse(r) => Refusal::new("code", format!("the provider refused the code: {r}")),
            RequestTokenError::Parse(e, _) => Refusal::new("token", format!("the token response: {e}")),
            other => Refusal::new("unavailable", other.to_string()),
        })?;
        let token = response.id_token().ok_or_else(|| Refusal::new("token", "the token response has no ID token"))?;
        let nonce = Nonce::new(flow.nonce.clone());
        let verified = match token.claims(&client.id_token_verifier(), &nonce) {
            Ok(claims) => Ok(claims.subject().to_string()),
            // A key not seen yet: the provider may have rotated its keys since they were fetched. Fetch once more.
            Err(ClaimsVerificationError::SignatureVerification(SignatureVerificationError::NoMatchingKey)) => {
                let metadata = self.metadata(issuer, true).await?;
                let client = self.client(issuer, metadata, redirect)?;
                token.claims(&client.id_token_verifier(), &nonce).map(|c| c.subject().to_string())
            }
            Err(e) => Err(e),
        };
        let subject = verified.map_err(refusal_of)?;
        // The claims of the token that just verified, all of them (the crate types only the standard ones).
        let payload = token.to_string().split('.').nth(1).and_then(|p| URL_SAFE_NO_PAD.decode(p).ok());
        let claims: Map<String, Value> = payload
            .and_then(|p| serde_json::from_slice(&p).ok())
            .ok_or_else(|| Refusal::new("token", "the ID token's claims are not a JSON object"))?;
        Ok(Vouched { issuer: flow.issuer.clone(), subject, claims })
    }

    /// A client assertion for `private_key_jwt` (RFC 7523): issued by and about the client, for the issuer, used
    /// once (`jti`), valid for a minute, signed RS256 with Varde's key.
    fn assertion(&self, issuer: &Issuer, key: &rsa::RsaPrivateKey, kid: Option<&str>) -> Result<String, Refusal> {
        use rsa::signature::{SignatureEncoding, Signer};
        let now = jiff::Timestamp::now().as_second();
        let mut header = serde_json::json!({"alg": "RS256", "typ": "JWT"});
        if let Some(kid) = kid {
            header["kid"] = Value::String(kid.to_owned());
        }
        if let Some(thumbprint) = &issuer.config.certificate_thumbprint {
            header["x5t#S256"] = Value::String(thumbprint.clone());
        }
        let claims = serde_json::json!({
            "iss": issuer.config.client_id,
            "sub": issuer.config.client_id,
            "aud": issuer.config.issuer,
            "jti": crate::secrets::random_token(),
            "iat": now,
            "nbf": now,
            "exp": now + 60,
        });
        let input =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
        let signer = rsa::pkcs1v15::SigningKey::<Sha256>::new((*key).clone());
        let signature = signer.try_sign(input.as_bytes()).map_err(|e| Refusal::new("unavailable", e.to_string()))?;
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes())))
    }
}

/// The reason for an ID token that did not verify.
fn refusal_of(e: ClaimsVerificationError) -> Refusal {
    let reason = match &e {
        ClaimsVerificationError::InvalidAudience(_) => "audience",
        ClaimsVerificationError::InvalidIssuer(_) => "issuer",
        ClaimsVerificationError::Expired(_) => "expired",
        ClaimsVerificationError::InvalidNonce(_) => "nonce",
        ClaimsVerificationError::SignatureVerification(_) => "signature",
        _ => "token",
    };
    Refusal::new(reason, format!("the ID token: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_and_every_reason_is_there_in_three_languages() {
        let reasons = REASONS.iter().chain(&["no_rule", "no_member"]).map(|r| format!("refused_{r}"));
        for key in ["with", "signed_in", "continue", "refused", "again"].map(str::to_owned).into_iter().chain(reasons) {
            for lang in ["nb", "nn", "en"] {
                assert!(!text(lang, &key).is_empty(), "{key} in {lang}");
            }
        }
        assert_eq!(TEXTS.len(), 5 + REASONS.len() + 2, "no text nobody uses");
        assert_ne!(text("nn", "continue"), text("nb", "continue"));
    }

    #[test]
    fn a_flow_survives_its_cookie_and_a_forged_one_does_not_parse() {
        let flow = Flow {
            issuer: "helseid".into(),
            state: "s".into(),
            nonce: "n".into(),
            verifier: "v".into(),
            next: Some("/review".into()),
            lang: "nn".into(),
        };
        assert_eq!(Flow::decode(&flow.encode()), Some(flow));
        assert_eq!(Flow::decode("not base64 ~"), None);
        assert_eq!(Flow::decode(&URL_SAFE_NO_PAD.encode("{}")), None);
    }

    #[test]
    fn a_client_key_reads_the_same_from_pem_and_from_a_jwk_and_nothing_else_passes() {
        use rsa::pkcs8::EncodePrivateKey;
        use rsa::traits::{PrivateKeyParts, PublicKeyParts};
        let key = rsa::RsaPrivateKey::new(&mut rand_core06::OsRng, 1024).unwrap();
        let pem = key.to_pkcs8_pem(rsa::pkcs8::LineEnding::LF).unwrap();
        let b64 = |n: &rsa::BigUint| URL_SAFE_NO_PAD.encode(n.to_bytes_be());
        let jwk = serde_json::json!({
            "kty": "RSA", "kid": "helseid-1", "n": b64(key.n()), "e": b64(key.e()), "d": b64(key.d()),
            "p": b64(&key.primes()[0]), "q": b64(&key.primes()[1]),
        });
        assert_eq!(private_key(&pem).unwrap(), (key.clone(), None));
        assert_eq!(private_key(&jwk.to_string()).unwrap(), (key, Some("helseid-1".into())));
        assert!(private_key("-----BEGIN NOTHING-----").unwrap_err().contains("PEM"));
        assert!(private_key(r#"{"kty": "EC"}"#).unwrap_err().contains("RSA"));
        assert!(private_key(r#"{"kty": "RSA", "n": "AQAB"}"#).unwrap_err().contains("'e'"));
    }

    #[test]
    fn a_username_is_stable_per_issuer_and_subject_and_holds_nothing_of_the_claims() {
        let v = |issuer: &str, sub: &str| Vouched { issuer: issuer.into(), subject: sub.into(), claims: Map::new() };
        assert_eq!(v("entra", "abc").username(), v("entra", "abc").username());
        assert_ne!(v("entra", "abc").username(), v("helseid", "abc").username());
        assert_ne!(v("entra", "abc").username(), v("entra", "abd").username());
        assert!(v("entra", "01017012345").username().starts_with("entra-"));
        assert!(!v("entra", "01017012345").username().contains("01017012345"));
    }

    #[test]
    fn the_file_names_each_issuer_once_with_the_credential_its_method_needs() {
        let parse = |toml: &str| -> Result<Issuers, String> {
            let file: IssuersFile = toml::from_str(toml).map_err(|e| e.to_string())?;
            Issuers::new(file.issuer)
        };
        let base =
            "name = \"entra\"\nlabel = \"Entra ID\"\nissuer = \"https://login.example/t/v2.0\"\nclient_id = \"c\"\n";
        let e = parse(&format!("[[issuer]]\n{base}client_auth = \"client_secret_post\"\n")).err().unwrap();
        assert!(e.contains("client_secret_env"), "{e}");
        let e = parse(&format!("[[issuer]]\n{base}client_auth = \"private_key_jwt\"\n")).err().unwrap();
        assert!(e.contains("private_key_file"), "{e}");
        let e = parse(&format!(
            "[[issuer]]\n{base}client_auth = \"client_secret_basic\"\nclient_secret_env = \"VARDE_TEST_NOT_SET_ANYWHERE\"\n"
        ))
        .err()
        .unwrap();
        assert!(e.contains("is not set"), "{e}");
        let e = parse(&format!("[[issuer]]\n{base}client_auth = \"magic\"\n")).err().unwrap();
        assert!(e.contains("unknown variant"), "{e}");
        let e = parse(&format!("[[issuer]]\n{}client_auth = \"private_key_jwt\"\n", base.replace("entra", "Entra ID")))
            .err()
            .unwrap();
        assert!(e.contains("1-32"), "{e}");
        assert!(parse("").unwrap().is_empty());
    }
}
