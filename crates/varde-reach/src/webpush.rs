//! Web Push: the message encryption of RFC 8291 (`aes128gcm`, RFC 8188) and the VAPID identification of RFC 8292,
//! for delivery to a browser's push service per RFC 8030. Pure functions over bytes; the caller sends the request.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use hkdf::Hkdf;
use p256::ecdsa::signature::Signer;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::{PublicKey, SecretKey};
use sha2::Sha256;

/// The record size announced in the header. One record carries a whole Varde message (at most 4 KiB less overhead:
/// push services accept 4096 bytes of payload).
const RECORD_SIZE: u32 = 4096;
/// The most plaintext one record takes: the record size less the padding delimiter and the 16-byte tag.
pub const MAX_PAYLOAD: usize = RECORD_SIZE as usize - 86 - 17;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PushError {
    #[error("the subscription's p256dh key is not a P-256 public key")]
    BadPublicKey,
    #[error("the subscription's auth secret must be 16 bytes")]
    BadAuthSecret,
    #[error("the payload is {0} bytes; one push message carries at most {MAX_PAYLOAD}")]
    TooLong(usize),
    #[error("the VAPID key is not a P-256 private key")]
    BadVapidKey,
}

/// What a browser hands over when it subscribes (`PushSubscription.toJSON()`), decoded.
#[derive(Debug, Clone)]
pub struct Subscription {
    pub endpoint: String,
    /// The user agent's public key, uncompressed (65 bytes).
    pub p256dh: Vec<u8>,
    /// The shared authentication secret (16 bytes).
    pub auth: Vec<u8>,
}

impl Subscription {
    /// From the base64url strings browsers give, checking both keys.
    pub fn from_base64(endpoint: &str, p256dh: &str, auth: &str) -> Result<Subscription, PushError> {
        let p256dh = B64URL.decode(p256dh.trim_end_matches('=')).map_err(|_| PushError::BadPublicKey)?;
        let auth = B64URL.decode(auth.trim_end_matches('=')).map_err(|_| PushError::BadAuthSecret)?;
        PublicKey::from_sec1_bytes(&p256dh).map_err(|_| PushError::BadPublicKey)?;
        if auth.len() != 16 {
            return Err(PushError::BadAuthSecret);
        }
        Ok(Subscription { endpoint: endpoint.to_owned(), p256dh, auth })
    }
}

/// Encrypts `payload` for a subscription with a fresh sender key pair and salt.
pub fn encrypt(payload: &[u8], to: &Subscription) -> Result<Vec<u8>, PushError> {
    let sender = SecretKey::random(&mut rand_core06::OsRng);
    let mut salt = [0u8; 16];
    rand_core06::RngCore::fill_bytes(&mut rand_core06::OsRng, &mut salt);
    encrypt_with(payload, to, &sender, salt)
}

/// RFC 8291 section 3.4, with the sender's key and salt given (the RFC's example fixes both).
pub fn encrypt_with(
    payload: &[u8],
    to: &Subscription,
    sender: &SecretKey,
    salt: [u8; 16],
) -> Result<Vec<u8>, PushError> {
    if payload.len() > MAX_PAYLOAD {
        return Err(PushError::TooLong(payload.len()));
    }
    if to.auth.len() != 16 {
        return Err(PushError::BadAuthSecret);
    }
    let ua_public = PublicKey::from_sec1_bytes(&to.p256dh).map_err(|_| PushError::BadPublicKey)?;
    let as_public = sender.public_key().to_encoded_point(false);
    let shared = p256::ecdh::diffie_hellman(sender.to_nonzero_scalar(), ua_public.as_affine());

    // IKM = HKDF(auth_secret, ecdh_secret, "WebPush: info" || 0x00 || ua_public || as_public, 32)
    let mut key_info = Vec::with_capacity(14 + 65 + 65);
    key_info.extend_from_slice(b"WebPush: info\0");
    key_info.extend_from_slice(&to.p256dh);
    key_info.extend_from_slice(as_public.as_bytes());
    let mut ikm = [0u8; 32];
    Hkdf::<Sha256>::new(Some(&to.auth), shared.raw_secret_bytes())
        .expand(&key_info, &mut ikm)
        .expect("32 bytes is a valid HKDF length");

    // RFC 8188: the content-encryption key and nonce from the salt and IKM.
    let content = Hkdf::<Sha256>::new(Some(&salt), &ikm);
    let mut cek = [0u8; 16];
    content.expand(b"Content-Encoding: aes128gcm\0", &mut cek).expect("16 bytes is a valid HKDF length");
    let mut nonce = [0u8; 12];
    content.expand(b"Content-Encoding: nonce\0", &mut nonce).expect("12 bytes is a valid HKDF length");

    // One record, so it is the last: the padding delimiter is 0x02 and no padding follows.
    let mut plaintext = Vec::with_capacity(payload.len() + 1);
    plaintext.extend_from_slice(payload);
    plaintext.push(0x02);
    let cipher = Aes128Gcm::new_from_slice(&cek).expect("a 16-byte key");
    let sealed = cipher.encrypt(Nonce::from_slice(&nonce), plaintext.as_slice()).expect("AES-GCM seals any length");

    // Header: salt (16) | record size (4, big-endian) | key id length (1) | key id (the sender's public key).
    let mut body = Vec::with_capacity(16 + 4 + 1 + 65 + sealed.len());
    body.extend_from_slice(&salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(65);
    body.extend_from_slice(as_public.as_bytes());
    body.extend_from_slice(&sealed);
    Ok(body)
}

/// The server's application-server key pair (VAPID), made once and kept.
#[derive(Clone)]
pub struct VapidKey(p256::ecdsa::SigningKey);

impl VapidKey {
    pub fn generate() -> VapidKey {
        VapidKey(p256::ecdsa::SigningKey::random(&mut rand_core06::OsRng))
    }

    /// From the base64url private scalar [`VapidKey::private_base64`] wrote.
    pub fn from_private_base64(text: &str) -> Result<VapidKey, PushError> {
        let bytes = B64URL.decode(text.trim()).map_err(|_| PushError::BadVapidKey)?;
        p256::ecdsa::SigningKey::from_slice(&bytes).map(VapidKey).map_err(|_| PushError::BadVapidKey)
    }

    pub fn private_base64(&self) -> String {
        B64URL.encode(self.0.to_bytes())
    }

    /// The public key as browsers take it for `applicationServerKey`: base64url of the uncompressed point.
    pub fn public_base64(&self) -> String {
        B64URL.encode(self.0.verifying_key().to_encoded_point(false).as_bytes())
    }

    /// The `Authorization` header for a push to `endpoint` (RFC 8292): `vapid t=<JWT>, k=<public key>`, the JWT
    /// signed with ES256, its audience the endpoint's origin, valid until `expires` (unix seconds; at most 24 h on).
    pub fn authorization(&self, endpoint: &str, subject: &str, expires: i64) -> Option<String> {
        let audience = origin(endpoint)?;
        let header = B64URL.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = B64URL.encode(
            serde_json::to_vec(&serde_json::json!({ "aud": audience, "exp": expires, "sub": subject }))
                .expect("JSON values serialise"),
        );
        let signing_input = format!("{header}.{claims}");
        let signature: p256::ecdsa::Signature = self.0.sign(signing_input.as_bytes());
        Some(format!("vapid t={signing_input}.{}, k={}", B64URL.encode(signature.to_bytes()), self.public_base64()))
    }
}

/// `scheme://host[:port]` of an absolute URL: the audience of a VAPID token.
pub fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    (!authority.is_empty()).then(|| format!("{scheme}://{authority}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> Vec<u8> {
        B64URL.decode(s).unwrap()
    }

    /// RFC 8291 section 5: the worked example, byte for byte.
    #[test]
    fn encrypts_the_example_of_rfc_8291() {
        let sender = SecretKey::from_slice(&b64("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw")).unwrap();
        assert_eq!(
            B64URL.encode(sender.public_key().to_encoded_point(false).as_bytes()),
            "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8"
        );
        let to = Subscription::from_base64(
            "https://push.example.net/push/JzLQ3raZJfFBR0aqvOMsLrt54w4rJUsV",
            "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
            "BTBZMqHH6r4Tts7J_aSIgg",
        )
        .unwrap();
        let salt: [u8; 16] = b64("DGv6ra1nlYgDCS1FRnbzlw").try_into().unwrap();
        let body = encrypt_with(b"When I grow up, I want to be a watermelon", &to, &sender, salt).unwrap();
        assert_eq!(
            B64URL.encode(body),
            "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
        );
    }

    #[test]
    fn refuses_bad_keys_and_long_payloads() {
        let good = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
        assert_eq!(
            Subscription::from_base64("https://p", "AAAA", "BTBZMqHH6r4Tts7J_aSIgg").unwrap_err(),
            PushError::BadPublicKey
        );
        assert_eq!(Subscription::from_base64("https://p", good, "BTBZ").unwrap_err(), PushError::BadAuthSecret);
        let to = Subscription::from_base64("https://p", good, "BTBZMqHH6r4Tts7J_aSIgg").unwrap();
        assert_eq!(encrypt(&vec![b'x'; MAX_PAYLOAD + 1], &to).unwrap_err(), PushError::TooLong(MAX_PAYLOAD + 1));
        // The longest payload still fits one 4096-byte record.
        assert_eq!(encrypt(&vec![b'x'; MAX_PAYLOAD], &to).unwrap().len(), 86 + MAX_PAYLOAD + 17);
    }

    #[test]
    fn vapid_tokens_verify_with_the_public_key_and_name_the_origin() {
        use p256::ecdsa::signature::Verifier;
        let key = VapidKey::generate();
        let again = VapidKey::from_private_base64(&key.private_base64()).unwrap();
        assert_eq!(key.public_base64(), again.public_base64());
        let header = key
            .authorization("https://fcm.example.com:8443/wp/abc?x=1", "mailto:varde@example.no", 1_900_000_000)
            .unwrap();
        let (t, k) = header.strip_prefix("vapid t=").unwrap().split_once(", k=").unwrap();
        assert_eq!(k, key.public_base64());
        let (signed, sig) = t.rsplit_once('.').unwrap();
        let claims: serde_json::Value = serde_json::from_slice(&b64(signed.split_once('.').unwrap().1)).unwrap();
        assert_eq!(claims["aud"], "https://fcm.example.com:8443");
        assert_eq!(claims["exp"], 1_900_000_000);
        let public = p256::ecdsa::VerifyingKey::from_sec1_bytes(&b64(k)).unwrap();
        let signature = p256::ecdsa::Signature::from_slice(&b64(sig)).unwrap();
        assert!(public.verify(signed.as_bytes(), &signature).is_ok());
        assert!(public.verify(b"something else", &signature).is_err());
        assert!(VapidKey::from_private_base64("not a key").is_err());
    }
}
