//! No client can hold the server: half-sent requests are cut, one address holds at most so many connections, and
//! everyone else is served meanwhile. The limits here are small so that the test shows the mechanism quickly; the
//! real ones are in `varde_web::config::connections`.

use crate::helpers::test_database;
use jiff::Timestamp;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use varde::{admin, serve};
use varde_web::http::listener::{ConnectionLimits, serve as serve_bounded};

/// A connection from `source` (any address of 127.0.0.0/8 is this machine) that starts a request and never ends it.
async fn half_request(source: &str, server: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(format!("{source}:0").parse().unwrap()).unwrap();
    let mut stream = socket.connect(server).await.unwrap();
    let _ = stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: varde\r\nX-Slow: ").await;
    stream
}

/// Whether the server has closed `stream` within `wait` (a read ends, with or without an answer).
async fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    let mut buf = Vec::new();
    tokio::time::timeout(wait, stream.read_to_end(&mut buf)).await.is_ok()
}

#[tokio::test]
async fn half_sent_requests_are_cut_and_one_address_cannot_hold_the_server() {
    let reference = varde::load_reference(None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = varde::open_store(&test_database(dir.path()).await, &reference).await.unwrap();
    let s = admin::new_service(&reference, "oslo-brukerrom", "Oslo", "user_room", "0301").unwrap();
    store.add_service(s, "test", Timestamp::now()).await.unwrap();
    let token = admin::issue_token(&*store, "technician", Some("oslo-brukerrom"), None).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let base = format!("http://{addr}");
    let app = serve::app(store, reference, &base).await.unwrap();
    let limits = ConnectionLimits {
        header_read: Duration::from_secs(3),
        body_read: Duration::from_secs(1),
        per_client: 8,
        total: 1_000,
        exempt: Vec::new(),
    };
    tokio::spawn(serve_bounded(listener, app, limits, std::future::pending()));

    // 30 half-sent requests from one address: 8 are held, the rest closed at once (checked well within the header
    // time, 100 ms for each held one).
    let mut attacker = Vec::new();
    for _ in 0..30 {
        attacker.push(half_request("127.0.0.2", addr).await);
    }
    let mut closed_at_once = 0;
    for stream in &mut attacker {
        closed_at_once += usize::from(closed_within(stream, Duration::from_millis(100)).await);
    }
    assert_eq!(closed_at_once, 22, "over the per-client cap, connections are closed at once");

    // Meanwhile everyone else is served: the health check and a registration.
    let client = reqwest::Client::new();
    assert_eq!(client.get(format!("{base}/healthz")).send().await.unwrap().status(), 200);
    let sample = serde_json::json!({"service": "oslo-brukerrom", "sold_as": ["heroin"], "form": "powder"});
    let res = client.post(format!("{base}/api/v1/samples")).bearer_auth(&token).json(&sample).send().await.unwrap();
    assert_eq!(res.status(), 201);

    // The held half-requests are cut once their headers are overdue, and the address may connect again.
    for stream in &mut attacker {
        assert!(closed_within(stream, Duration::from_secs(5)).await, "a half-sent request is cut");
    }
    let mut again = half_request("127.0.0.2", addr).await;
    assert!(!closed_within(&mut again, Duration::from_millis(200)).await, "the address's places were given back");

    // A body that stops halfway is cut too, with an answer.
    let mut slow = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/v1/samples HTTP/1.1\r\nHost: varde\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: 500\r\n\r\n{{\"service\":"
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 512];
    let n = tokio::time::timeout(Duration::from_secs(3), slow.read(&mut answer)).await.expect("answered in time");
    let answer = String::from_utf8_lossy(&answer[..n.unwrap()]).into_owned();
    assert!(answer.starts_with("HTTP/1.1 4"), "{answer}");
}
