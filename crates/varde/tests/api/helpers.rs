use jiff::Timestamp;
use serde_json::{Value, json};
use std::sync::Arc;
use varde::{admin, load_reference, open_store, serve};
use varde_store::Store;
use varde_store_sqlite::SqliteStore;

pub struct TestApp {
    pub base: String,
    pub store: Arc<SqliteStore>,
    pub client: reqwest::Client,
    /// Technician at oslo-brukerrom.
    pub oslo: String,
    /// Technician at bergen-brukerrom.
    pub bergen: String,
    pub reviewer: String,
    pub admin: String,
    db: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with_proxies(Vec::new()).await
    }

    /// A server that trusts these reverse proxies' forwarded headers (`--trusted-proxy`).
    pub async fn spawn_with_proxies(trusted_proxies: Vec<ipnet::IpNet>) -> TestApp {
        TestApp::spawn_with(serve::AppOptions { trusted_proxies, ..TestApp::options() }).await
    }

    /// What tests run with: webhooks retried in milliseconds, push accepted on loopback http.
    pub fn options() -> serve::AppOptions {
        let backoff = varde_web::warn::delivery::Backoff {
            first: std::time::Duration::from_millis(20),
            max: std::time::Duration::from_millis(200),
        };
        let reach = serve::ReachOptions { insecure_push: true, ..serve::ReachOptions::default() };
        serve::AppOptions { backoff, reach, ..serve::AppOptions::default() }
    }

    pub async fn spawn_with(options: serve::AppOptions) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db");
        TestApp::spawn_at(dir, &db, options).await
    }

    /// A server whose database lives at `db` (kept for the test's life with `dir`).
    pub async fn spawn_at(dir: tempfile::TempDir, db: &std::path::Path, options: serve::AppOptions) -> TestApp {
        let reference = load_reference(None).unwrap();
        let store = open_store(&format!("sqlite://{}", db.display()), &reference).unwrap();
        for (slug, kommune) in [("oslo-brukerrom", "0301"), ("bergen-brukerrom", "4601")] {
            let s = admin::new_service(&reference, slug, slug, "user_room", kommune).unwrap();
            store.add_service(s, "test", Timestamp::now()).await.unwrap();
        }
        let oslo = admin::issue_token(&*store, "technician", Some("oslo-brukerrom"), None).await.unwrap();
        let bergen = admin::issue_token(&*store, "technician", Some("bergen-brukerrom"), None).await.unwrap();
        let reviewer = admin::issue_token(&*store, "reviewer", None, None).await.unwrap();
        let admin = admin::issue_token(&*store, "admin", None, None).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = serve::app_with(store.clone(), reference, &base, options)
            .await
            .unwrap()
            .into_make_service_with_connect_info::<std::net::SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        TestApp {
            base,
            store,
            client: reqwest::Client::new(),
            oslo,
            bergen,
            reviewer,
            admin,
            db: db.to_owned(),
            _dir: dir,
        }
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
        let mut req = self.client.post(format!("{}{path}", self.base)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        Self::answer(req.send().await.unwrap()).await
    }

    pub async fn post_raw(&self, path: &str, token: &str, content_type: &str, body: Vec<u8>) -> (u16, Value) {
        let req = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body);
        Self::answer(req.send().await.unwrap()).await
    }

    pub async fn get_text(&self, path: &str) -> (u16, String, String) {
        let res = self.client.get(format!("{}{path}", self.base)).send().await.unwrap();
        let status = res.status().as_u16();
        let ct = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        (status, ct, res.text().await.unwrap())
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let mut req = self.client.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        Self::answer(req.send().await.unwrap()).await
    }

    async fn answer(res: reqwest::Response) -> (u16, Value) {
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// The database file, for tests that look at what is stored byte for byte.
    pub fn store_path(&self) -> &std::path::Path {
        &self.db
    }

    pub async fn count(&self) -> u64 {
        self.store.sample_count().await.unwrap()
    }

    pub async fn audit_entries(&self) -> u64 {
        self.store.verify_audit().await.unwrap().entries
    }
}

/// The example body from the API contract.
pub fn heroin_sample() -> Value {
    json!({
        "service": "oslo-brukerrom",
        "received_at": "2026-11-20T14:05:00+01:00",
        "sold_as": ["heroin"],
        "form": "powder",
        "colour": "brown",
        "notes": "",
        "tablet": {"mass_mg": null, "logo": null, "diameter_mm": null, "thickness_mm": null, "score": null},
        "analyses": [
            {"method": "ftir", "components": [
                {"substance": "heroin", "role": "main"},
                {"substance": "caffeine", "role": "adulterant", "amount": {"value": 20, "unit": "percent"}}
            ]},
            {"method": "strip_nitazene", "result": "positive"}
        ]
    })
}
