//! The shipped templates' words in the page's language: titles and lessons from the
//! catalogue (the model keeps the English ones, which the API and the tests use), and the
//! steps', services' and events' words of a template (or a copy of one) in Korean, shown in
//! place of the English ones the workflow keeps (ids and names the engine uses stay). The
//! workflows column, the editor's lesson note, the Learn page and the document (which shows
//! an open template under its title) all read them here.

use std::borrow::Cow;

use crate::i18n::Locale;
use crate::model::{Edge, Outcome, Workflow};

/// A template's title in the page's language.
pub fn template_title(locale: Locale, key: &str) -> &'static str {
    template_text(locale, key).0
}

/// What a template shows, in the page's language.
pub fn template_lesson(locale: Locale, key: &str) -> &'static str {
    template_text(locale, key).1
}

/// A shipped template's title and lesson from the catalogue (the model keeps the English
/// ones, which the API and the tests use).
fn template_text(locale: Locale, key: &str) -> (&'static str, &'static str) {
    macro_rules! text {
        ($k:ident) => {
            (
                td_string!(locale, templates.$k.title),
                td_string!(locale, templates.$k.lesson),
            )
        };
    }
    match key {
        "order-orchestrated" => text!(order_orchestrated),
        "order-choreographed" => text!(order_choreographed),
        "ecommerce-orchestrated" => text!(ecommerce_orchestrated),
        "ecommerce-choreographed" => text!(ecommerce_choreographed),
        "ecommerce-real-orchestrated" => text!(ecommerce_real_orchestrated),
        "ecommerce-real-choreographed" => text!(ecommerce_real_choreographed),
        "onboarding-events" => text!(onboarding_events),
        "onboarding-hybrid" => text!(onboarding_hybrid),
        "image-fork-join" => text!(image_fork_join),
        "airflow-chain" => text!(airflow_chain),
        "fan-out-group" => text!(fan_out_group),
        "cart-fan-out" => text!(cart_fan_out),
        "financial-transaction" => text!(financial_transaction),
        "order-pipeline" => text!(order_pipeline),
        "payment-by-amount" => text!(payment_by_amount),
        "payment-by-amount-filtered" => text!(payment_by_amount_filtered),
        "payment-confirmation" => text!(payment_confirmation),
        "payment-confirmation-events" => text!(payment_confirmation_events),
        "payment-confirmation-watchdog" => text!(payment_confirmation_watchdog),
        "shipping-lean-events" => text!(shipping_lean_events),
        "shipping-carried-events" => text!(shipping_carried_events),
        "card-retry-loop" => text!(card_retry_loop),
        "order-items-for-each" => text!(order_items_for_each),
        "payment-sub-flow" => text!(payment_sub_flow),
        "order-with-payment-sub-flow" => text!(order_with_payment_sub_flow),
        _ => ("", ""),
    }
}

/// A shipped template's word in Korean: a step's label, a service or an event. The
/// workflow keeps the English words — ids, services and event names are what the engine,
/// the API and faults use — and the page shows these in their place. `None`: not one of
/// the templates' words (the user's own words are shown as written).
fn korean_word(english: &str) -> Option<&'static str> {
    Some(match english {
        // Steps.
        "Add to cart" => "장바구니 담기",
        "Address check" => "주소 확인",
        "Approve" => "승인",
        "Approve customer" => "고객 승인",
        "Authorize payment" => "결제 승인 요청",
        "Await bank confirmation" => "은행 확인 기다리기",
        "Cancel order" => "주문 취소",
        "Charge card" => "카드 결제",
        "Reserve funds" => "자금 예약",
        "Pay" => "결제",
        "Pack items" => "상품 포장",
        "Ask for another card" => "다른 카드 요청",
        "Watchdog" => "감시 타이머",
        "Bonus programme" => "보너스 프로그램",
        "ChargePayment" => "결제 청구",
        "Collect results" => "결과 모으기",
        "Convert + resize JPG" => "JPG 변환·크기 조정",
        "Convert + resize WebP" => "WebP 변환·크기 조정",
        "Credit check" => "신용 조회",
        "Criminal check" => "범죄 경력 조회",
        "Email" => "이메일",
        "Fulfillment" => "출고",
        "Manual review" => "수동 검토",
        "Notify declined" => "거절 알림",
        "Inventory" => "재고",
        "Newsletter enrolment" => "뉴스레터 등록",
        "Notify back order" => "입고 지연 알림",
        "Notify payment rejected" => "결제 거절 알림",
        "Order Placement" => "주문 접수",
        "Order complete" => "주문 완료",
        "Order received" => "주문 수신",
        "Output locations" => "출력 위치",
        "Payment" => "결제",
        "Process" => "처리",
        "Receive image" => "이미지 수신",
        "Recommendations" => "추천",
        "Record" => "기록",
        "Refund payment" => "결제 환불",
        "Registration" => "가입",
        "SendConfirmation" => "확인 메일 발송",
        "Shipping" => "배송",
        "Shipping preparation" => "배송 준비",
        "Start group" => "그룹 시작",
        "Stock check" => "재고 확인",
        "Update order (back order)" => "주문 갱신(입고 지연)",
        "Update order (rejected)" => "주문 갱신(거절)",
        "Upload JPG" => "JPG 업로드",
        "Upload WebP" => "WebP 업로드",
        "ValidateOrder" => "주문 검증",
        // Services.
        "AddressService" => "주소 서비스",
        "AuditService" => "감사 서비스",
        "CartService" => "장바구니 서비스",
        "ComplianceService" => "컴플라이언스 서비스",
        "CreditService" => "신용 서비스",
        "EmailService" => "이메일 서비스",
        "FulfillmentService" => "출고 서비스",
        "ImageService" => "이미지 서비스",
        "InventoryService" => "재고 서비스",
        "LaunchService" => "발사 정보 서비스",
        "LedgerService" => "원장 서비스",
        "LoyaltyService" => "로열티 서비스",
        "MarketingService" => "마케팅 서비스",
        "MathService" => "계산 서비스",
        "NotificationService" => "알림 서비스",
        "OnboardingService" => "온보딩 서비스",
        "OrderService" => "주문 서비스",
        "PaymentService" => "결제 서비스",
        "PictureService" => "사진 서비스",
        "RecommendationService" => "추천 서비스",
        "RegistrationService" => "가입 서비스",
        "RiskService" => "위험 평가 서비스",
        "ShippingService" => "배송 서비스",
        "StorageService" => "저장소 서비스",
        "Worker" => "작업자",
        // Events named on their edges.
        "BackOrdered" => "입고 지연됨",
        "CustomerOnboarded" => "고객 온보딩 완료됨",
        "CustomerRegistered" => "고객 가입됨",
        "ItemAdded" => "상품 담김",
        "OrderFulfilled" => "주문 출고됨",
        "OrderPlaced" => "주문 접수됨",
        "PaymentCharged" | "paymentCharged" => "결제 청구됨",
        "PaymentAuthorized" => "결제 승인됨",
        "PaymentConfirmed" => "결제 확인됨",
        "PaymentTimedOut" => "결제 시간 초과",
        "PaymentRejected" => "결제 거절됨",
        "orderValidated" => "주문 검증됨",
        _ => return None,
    })
}

/// Whether the page shows `workflow`'s words from the templates' catalogue: a template, or
/// a copy of one, in a language other than the templates' own.
fn speaks_template_words(locale: Locale, workflow: &Workflow) -> bool {
    locale == Locale::ko && workflow.template.is_some()
}

/// A step's label or a service as the page shows it in `locale`, in a workflow that is a
/// template or a copy of one (`of_template`): the template's word for it, else as written.
pub fn word(locale: Locale, of_template: bool, text: &str) -> Cow<'_, str> {
    match korean_word(text).filter(|_| of_template && locale == Locale::ko) {
        Some(word) => Cow::Borrowed(word),
        None => Cow::Borrowed(text),
    }
}

/// A step's label or a service of `workflow` as the page shows it in `locale`.
pub fn shown_word<'a>(locale: Locale, workflow: &Workflow, text: &'a str) -> Cow<'a, str> {
    word(locale, workflow.template.is_some(), text)
}

/// `workflow` with the words the page shows in `locale` (labels, services, event names),
/// for the views that tell a run in sentences; `None` when it shows them as written.
pub fn shown_workflow(locale: Locale, workflow: &Workflow) -> Option<Workflow> {
    if !speaks_template_words(locale, workflow) {
        return None;
    }
    let mut shown = workflow.clone();
    for (edge, original) in shown.edges.iter_mut().zip(&workflow.edges) {
        if original.kind == crate::model::EdgeKind::Event {
            edge.event = Some(shown_event(locale, workflow, original));
        }
    }
    for node in &mut shown.nodes {
        node.label = shown_word(locale, workflow, &node.label).into_owned();
        node.service = shown_word(locale, workflow, &node.service).into_owned();
    }
    Some(shown)
}

/// Step `id` of `workflow` as the page names it in `locale`: its label (the template's
/// word for it), else its id.
pub fn shown_step(locale: Locale, workflow: &Workflow, id: &str) -> String {
    shown_word(locale, workflow, &workflow.step_name(id)).into_owned()
}

/// The event an edge of `workflow` publishes, as the page shows it in `locale`: its own
/// name's word, or for a name made from its source's label ("<label>Completed", "…Failed")
/// that label's word with "완료" or "실패"; else the name the engine uses.
pub fn shown_event(locale: Locale, workflow: &Workflow, edge: &Edge) -> String {
    let name = workflow.event_name(edge);
    if !speaks_template_words(locale, workflow) {
        return name;
    }
    if let Some(word) = korean_word(&name) {
        return word.to_string();
    }
    if edge.event.as_deref().is_some_and(|e| !e.is_empty()) {
        return name;
    }
    let label = workflow.step_name(&edge.from);
    match korean_word(&label) {
        Some(word) => match edge.on {
            Outcome::Success => format!("{word} 완료"),
            Outcome::Failure => format!("{word} 실패"),
        },
        None => name,
    }
}

/// An event `name` the engine uses in `workflow`, as the page shows it in `locale`: the
/// template's word for it, or for a name made from a step's label ("<label>Completed",
/// "…Failed") that label's word with "완료" or "실패"; else as it is.
pub fn shown_event_name(locale: Locale, workflow: &Workflow, name: &str) -> String {
    if !speaks_template_words(locale, workflow) {
        return name.to_string();
    }
    if let Some(word) = korean_word(name) {
        return word.to_string();
    }
    for node in &workflow.nodes {
        let Some(word) = korean_word(&node.label) else {
            continue;
        };
        for outcome in [Outcome::Success, Outcome::Failure] {
            if Workflow::default_event_name(&node.label, outcome) == name {
                return match outcome {
                    Outcome::Success => format!("{word} 완료"),
                    Outcome::Failure => format!("{word} 실패"),
                };
            }
        }
    }
    name.to_string()
}

/// A scenario's name in the page's language: a shipped one's from the catalogue, the
/// user's own as written.
pub fn scenario_name(locale: Locale, key: Option<&str>, name: &str) -> String {
    match key {
        Some("happy-path") => td_string!(locale, templates.scenario.happy_path).to_string(),
        Some("card-expired") => td_string!(locale, templates.scenario.card_expired).to_string(),
        Some("out-of-stock") => td_string!(locale, templates.scenario.out_of_stock).to_string(),
        Some("small-payment") => td_string!(locale, templates.scenario.small_payment).to_string(),
        Some("large-payment") => td_string!(locale, templates.scenario.large_payment).to_string(),
        Some("confirmation-arrives") => {
            td_string!(locale, templates.scenario.confirmation_arrives).to_string()
        }
        Some("confirmation-never-comes") => {
            td_string!(locale, templates.scenario.confirmation_never_comes).to_string()
        }
        _ => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::examples::ALL;
    use crate::model::EdgeKind;

    #[test]
    fn every_step_service_and_event_of_a_template_has_its_korean_word_and_ids_stay() {
        for example in ALL {
            let mut workflow = (example.workflow)();
            workflow.template = Some(example.key.to_string());
            // Airflow's task ids and the fan-out's calls are code, shown as written.
            if matches!(example.key, "airflow-chain" | "fan-out-group") {
                continue;
            }
            for node in &workflow.nodes {
                let shown = shown_step(Locale::ko, &workflow, &node.id);
                assert_ne!(shown, node.label, "{}: {}", example.key, node.label);
                assert!(
                    korean_word(&node.service).is_some(),
                    "{}: {}",
                    example.key,
                    node.service
                );
                assert_eq!(shown_step(Locale::en, &workflow, &node.id), node.label);
            }
            for edge in workflow.edges.iter().filter(|e| e.kind == EdgeKind::Event) {
                let shown = shown_event(Locale::ko, &workflow, edge);
                // The log, which has only the engine's name, says the same word.
                assert_eq!(
                    shown_event_name(Locale::ko, &workflow, &workflow.event_name(edge)),
                    shown
                );
                assert!(
                    shown.chars().any(|c| ('가'..='힣').contains(&c)),
                    "{}: {shown}",
                    example.key
                );
                assert_eq!(
                    shown_event(Locale::en, &workflow, edge),
                    workflow.event_name(edge)
                );
            }
        }
        // The user's own workflow is shown as written, in every language.
        let mut own = (ALL[0].workflow)();
        own.template = None;
        assert_eq!(
            shown_step(Locale::ko, &own, &own.nodes[0].id),
            own.nodes[0].label
        );
    }
}
