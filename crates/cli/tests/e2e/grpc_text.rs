//! The text-normalization gRPC service, alone, from a client generated from the .proto files.
use crate::common::Server;
use sokuji_proto::{
    common::Empty,
    text::{Mode, NormalizeRequest, ToneStyle, text_service_client::TextServiceClient},
};
use tonic::{Code, transport::Channel};

#[tokio::test]
async fn normalize_over_grpc() {
    let server = Server::start(&["text"], &[]).wait_ready();
    let channel = Channel::from_shared(format!("http://127.0.0.1:{}", server.port))
        .expect("url")
        .connect()
        .await
        .expect("connect");
    let mut client = TextServiceClient::new(channel.clone());
    let req = |texts: &[&str], mode: Mode| NormalizeRequest {
        texts: texts.iter().map(|s| s.to_string()).collect(),
        mode: mode as i32,
        language: "vi".into(),
        tone_style: ToneStyle::Classic as i32,
    };
    let r = client
        .normalize(req(&["hai mươi tư", "tám giờ kém mười lăm\nba phẩy năm"], Mode::Itn))
        .await
        .expect("itn")
        .into_inner();
    assert_eq!(r.texts, ["24", "7:45\n3.5"]);
    let r = client.normalize(req(&["ngày 30/4/1975"], Mode::Tn)).await.expect("tn").into_inner();
    assert_eq!(r.texts, ["ngày ba mươi tháng tư năm một nghìn chín trăm bảy mươi lăm"]);
    let mut modern = req(&["hòa thủy"], Mode::Tone);
    modern.tone_style = ToneStyle::Modern as i32;
    assert_eq!(client.normalize(modern).await.expect("tone").into_inner().texts, ["hoà thuỷ"]);

    let mut bad = req(&["x"], Mode::Itn);
    bad.mode = 9;
    assert_eq!(client.normalize(bad).await.expect_err("bad mode").code(), Code::InvalidArgument);
    let mut fr = req(&["x"], Mode::Itn);
    fr.language = "fr".into();
    let s = client.normalize(fr).await.expect_err("bad language");
    assert_eq!(s.code(), Code::InvalidArgument);
    assert_eq!(s.metadata().get("x-sokuji-error-code").and_then(|v| v.to_str().ok()), Some("unsupported_language"));
    assert!(client.health_check(Empty {}).await.expect("health").into_inner().healthy);

    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    let res = health
        .check(tonic_health::pb::HealthCheckRequest { service: "sokuji.text.TextService".into() })
        .await
        .expect("grpc.health.v1")
        .into_inner();
    assert_eq!(res.status, tonic_health::pb::health_check_response::ServingStatus::Serving as i32);
}
