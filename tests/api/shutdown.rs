use futures::SinkExt;

use cartwheel_testkit::spawn_app;

#[tokio::test]
async fn graceful_shutdown_finishes_in_flight_requests_then_refuses_new_ones() {
    let mut app = spawn_app().await;
    let (mut chunks, body) = futures::channel::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let request = app
        .client
        .post(app.url("/api/v1/tenant"))
        .body(reqwest::Body::wrap_stream(body))
        .send();
    let in_flight = tokio::spawn(request);
    chunks.send(Ok(b"first half ".to_vec())).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let url = app.url("/health");
    let stopping = tokio::spawn(async move { app.stop().await });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    chunks.send(Ok(b"second half".to_vec())).await.unwrap();
    drop(chunks);

    // The request that was in flight gets its answer (405: the route only allows GET).
    let response = in_flight.await.unwrap().unwrap();
    assert_eq!(response.status(), 405);
    stopping.await.unwrap().expect("server stops cleanly");
    assert!(reqwest::get(url).await.is_err(), "no longer accepting");
}
