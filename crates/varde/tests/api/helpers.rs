use jiff::Timestamp;
use serde_json::{Value, json};
use std::sync::Arc;
use varde::{admin, load_reference, open_store, serve};
use varde_core::Application;

/// The database the suite runs against: SQLite in the test's directory, or with `VARDE_TEST_API_BACKEND=postgres`
/// a fresh schema in the PostgreSQL database `VARDE_TEST_POSTGRES` names (`scripts/test` runs the suite both ways
/// when that is set).
pub async fn test_database(dir: &std::path::Path) -> String {
    match std::env::var("VARDE_TEST_API_BACKEND").as_deref() {
        Ok("postgres") => {
            let url = std::env::var("VARDE_TEST_POSTGRES").expect("VARDE_TEST_POSTGRES names the test database");
            let schema = format!("varde_test_api_{:016x}", rand::random::<u64>());
            varde_store_postgres::create_schema(&url, &schema).await.expect("a fresh schema")
        }
        Ok("sqlite") | Err(_) => format!("sqlite://{}", dir.join("t.db").display()),
        Ok(other) => panic!("VARDE_TEST_API_BACKEND={other}: use sqlite or postgres"),
    }
}

pub struct TestApp {
    pub base: String,
    pub store: Arc<dyn Application>,
    pub client: reqwest::Client,
    /// Technician at oslo-brukerrom.
    pub oslo: String,
    /// Technician at bergen-brukerrom.
    pub bergen: String,
    pub reviewer: String,
    pub admin: String,
    database: String,
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

    /// What tests run with: webhooks retried in milliseconds, push accepted on loopback http, and loopback allowed
    /// as an outbound range (the receivers the tests start listen there).
    pub fn options() -> serve::AppOptions {
        let backoff = varde_web::warn::delivery::Backoff {
            first: std::time::Duration::from_millis(20),
            max: std::time::Duration::from_millis(200),
        };
        let reach =
            serve::ReachOptions { insecure_push: true, outbound_allow: loopback(), ..serve::ReachOptions::default() };
        serve::AppOptions { backoff, reach, ..serve::AppOptions::default() }
    }

    pub async fn spawn_with(options: serve::AppOptions) -> TestApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        TestApp::spawn_listening(listener, options).await
    }

    /// A server on a listener the test bound first, for a peer that must know the server's address before it starts
    /// (an identity provider with Varde's redirect address registered).
    pub async fn spawn_listening(listener: tokio::net::TcpListener, options: serve::AppOptions) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let database = test_database(dir.path()).await;
        TestApp::spawn_on(dir, database, listener, options).await
    }

    /// A server on the SQLite file `db` (kept for the test's life with `dir`), for tests of the embedded store.
    pub async fn spawn_at(dir: tempfile::TempDir, db: &std::path::Path, options: serve::AppOptions) -> TestApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        TestApp::spawn_on(dir, format!("sqlite://{}", db.display()), listener, options).await
    }

    async fn spawn_on(
        dir: tempfile::TempDir,
        database: String,
        listener: tokio::net::TcpListener,
        options: serve::AppOptions,
    ) -> TestApp {
        let reference = load_reference(None).unwrap();
        let store = open_store(&database, &reference).await.unwrap();
        for (slug, kommune) in [("oslo-brukerrom", "0301"), ("bergen-brukerrom", "4601")] {
            let s = admin::new_service(&reference, slug, slug, "user_room", kommune).unwrap();
            store.add_service(s, "test", Timestamp::now()).await.unwrap();
        }
        let oslo = admin::issue_token(&*store, "technician", Some("oslo-brukerrom"), None).await.unwrap();
        let bergen = admin::issue_token(&*store, "technician", Some("bergen-brukerrom"), None).await.unwrap();
        let reviewer = admin::issue_token(&*store, "reviewer", None, None).await.unwrap();
        let admin = admin::issue_token(&*store, "admin", None, None).await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = serve::app_with(store.clone(), reference, &base, options)
            .await
            .unwrap()
            .into_make_service_with_connect_info::<std::net::SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        TestApp { base, store, client: reqwest::Client::new(), oslo, bergen, reviewer, admin, database, _dir: dir }
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
        let mut req = self.client.post(format!("{}{path}", self.base)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        Self::answer(req.send().await.unwrap()).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> (u16, Value) {
        Self::answer(self.client.delete(format!("{}{path}", self.base)).bearer_auth(token).send().await.unwrap()).await
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

    /// Another instance on this app's database, with a store of its own as another process would have (on
    /// PostgreSQL its own connections and event listener); returns its base URL.
    pub async fn beside(&self) -> String {
        let reference = load_reference(None).unwrap();
        let store = open_store(&self.database, &reference).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let options = serve::AppOptions { jobs: serve::Jobs::Elsewhere, ..TestApp::options() };
        let app = serve::app_with(store, reference, &base, options)
            .await
            .unwrap()
            .into_make_service_with_connect_info::<std::net::SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        base
    }

    /// The first column of a query's rows, as text, read straight from the database (SQL both backends take).
    pub async fn rows(&self, sql: &str) -> Vec<String> {
        if let Some(path) = self.database.strip_prefix("sqlite://") {
            let conn = rusqlite::Connection::open(path).unwrap();
            let mut stmt = conn.prepare(sql).unwrap();
            return stmt.query_map([], |r| r.get::<_, String>(0)).unwrap().collect::<Result<_, _>>().unwrap();
        }
        let (client, connection) = tokio_postgres::connect(&self.database, tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(connection);
        // The simple protocol answers every value as text.
        client
            .simple_query(sql)
            .await
            .unwrap()
            .into_iter()
            .filter_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(r) => Some(r.get(0).unwrap_or_default().to_owned()),
                _ => None,
            })
            .collect()
    }

    pub async fn count(&self) -> u64 {
        self.store.queries().sample_count().await.unwrap()
    }

    pub async fn audit_entries(&self) -> u64 {
        self.store.queries().verify_audit().await.unwrap().entries
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

/// The loopback ranges, which the tests' receivers listen on, as an operator would allow a range with
/// `--outbound-allow`.
pub fn loopback() -> Vec<ipnet::IpNet> {
    vec!["127.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()]
}
