//! Names in Hangul work end to end: a workflow whose step ids, labels, services and events
//! are Korean imports (text form and the article's JSON), validates, round-trips through
//! JSON and the text form, and exports to Mermaid with every name intact — the ids Mermaid
//! cannot take are generated (`n1`, `n2`), with the real id beside each in a comment.

use app::model::formats::{export, import, ExportFormat, ImportFormat};
use app::model::{validate, EdgeKind};

const TEXT: &str =
    "name: 주문 처리\n주문검증 -> 결제\n결제 ~> 배송 : 결제완료\n결제 -!> 주문취소\n";

#[test]
fn the_text_form_takes_korean_ids_and_event_names_and_gives_them_back() {
    let w = import(TEXT, Some(ImportFormat::Text)).expect("imports");
    assert_eq!(w.name, "주문 처리");
    let ids: Vec<&str> = w.nodes.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids, ["주문검증", "결제", "배송", "주문취소"]);
    let event = w.edges.iter().find(|e| e.kind == EdgeKind::Event).unwrap();
    assert_eq!(w.event_name(event), "결제완료");
    assert!(validate(&w).is_empty(), "{:?}", validate(&w));
    // The text form and JSON give the same workflow back.
    let again = import(
        &export(&w, ExportFormat::Text).unwrap(),
        Some(ImportFormat::Text),
    )
    .unwrap();
    assert_eq!(
        export(&again, ExportFormat::Text).unwrap(),
        export(&w, ExportFormat::Text).unwrap()
    );
    let json = export(&w, ExportFormat::Json).unwrap();
    assert!(
        json.contains("\"주문검증\""),
        "JSON keeps Hangul as it is: {json}"
    );
    assert_eq!(import(&json, Some(ImportFormat::Native)).unwrap(), w);
}

#[test]
fn mermaid_gets_generated_ids_with_the_real_ones_beside_them_and_every_name_intact() {
    let mut w = import(TEXT, Some(ImportFormat::Text)).unwrap();
    w.nodes[0].label = "주문 검증".into();
    w.nodes[0].service = "주문서비스".into();
    let mermaid: String = export(&w, ExportFormat::Mermaid)
        .unwrap()
        .lines()
        .filter(|l| !l.contains(" details {"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(
        mermaid,
        "---\ntitle: \"주문 처리\"\n---\nflowchart LR\n    %% n1 = 주문검증\n    n1[\"주문 검증<br/><small>주문서비스.run</small>\"]\n    %% n2 = 결제\n    n2[\"결제<br/><small>결제.run</small>\"]\n    %% n3 = 배송\n    n3[\"배송<br/><small>배송.run</small>\"]\n    %% n4 = 주문취소\n    n4[\"주문취소<br/><small>주문취소.run</small>\"]\n    n1 --> n2\n    n2 -. 결제완료 .-> n3\n    n2 -- on failure --> n4\n    linkStyle 2 stroke:#c8322f,color:#c8322f\n"
    );
    assert!(!mermaid.contains("__"), "no id turned into underscores");
}

#[test]
fn an_ascii_id_mermaid_cannot_take_keeps_its_look_and_says_which_step_it_is() {
    let w = import("notify-rejected -> n1\n", Some(ImportFormat::Text)).unwrap();
    let mermaid = export(&w, ExportFormat::Mermaid).unwrap();
    assert!(
        mermaid.contains("    %% notify_rejected = notify-rejected\n")
            && mermaid.contains("\n    notify_rejected[\"notify-rejected<br/>"),
        "{mermaid}"
    );
    // "n1" is a real id here: it stays, and no generated id can take it.
    assert!(mermaid.contains("    n1[\"n1<br/>"), "{mermaid}");
    assert!(mermaid.contains("notify_rejected --> n1"), "{mermaid}");
}

#[test]
fn the_articles_json_with_korean_steps_imports() {
    let article = r#"{"workflow": {"name": "주문처리", "steps": [
        {"name": "주문검증", "service": "주문서비스", "action": "검증"},
        {"name": "결제", "service": "결제서비스", "action": "청구"}
    ]}}"#;
    match import(article, Some(ImportFormat::Article)) {
        Ok(w) => {
            assert_eq!(w.nodes[0].id, "주문검증");
            assert_eq!(w.nodes[1].service, "결제서비스");
            assert_eq!(
                (w.edges[0].from.as_str(), w.edges[0].to.as_str()),
                ("주문검증", "결제")
            );
            assert!(validate(&w).is_empty(), "{:?}", validate(&w));
        }
        Err(e) => panic!("{e:?}"),
    }
}
