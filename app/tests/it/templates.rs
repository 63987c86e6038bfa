//! The shipped templates: stored apart from the user's work, copies named apart, and
//! every title in both languages.

use app::i18n::Locale;
use app::model::examples::{distinct_name, is_template_id, template_id, ALL};
use app::ui::common::templates::{template_lesson, template_title};

#[test]
fn copies_are_named_apart_from_the_users_workflows() {
    let taken = ["OrderProcessing", "OrderProcessing (copy 2)", "Other"];
    let is_taken = |n: &str| taken.contains(&n);
    let english = Locale::en;
    assert_eq!(distinct_name("Fresh", english, is_taken), "Fresh");
    assert_eq!(
        distinct_name("OrderProcessing", english, is_taken),
        "OrderProcessing (copy 3)"
    );
    assert_eq!(distinct_name("Other", english, is_taken), "Other (copy 2)");
    assert_eq!(
        distinct_name("주문 처리", Locale::ko, |n| n == "주문 처리"),
        "주문 처리 (사본 2)"
    );
}

#[test]
fn every_template_has_a_read_only_id_and_words_in_both_languages() {
    for example in ALL {
        let id = template_id(example.key);
        assert!(is_template_id(&id), "{id}");
        for locale in [Locale::en, Locale::ko] {
            assert!(
                !template_title(locale, example.key).is_empty(),
                "{} {locale}",
                example.key
            );
            assert!(
                !template_lesson(locale, example.key).is_empty(),
                "{} {locale}",
                example.key
            );
        }
        assert_eq!(template_title(Locale::en, example.key), example.title);
        assert_ne!(
            template_title(Locale::ko, example.key),
            example.title,
            "{} in Korean",
            example.key
        );
    }
    // A user's workflow id (a UUID) is never taken for a template.
    assert!(!is_template_id("9f3c2a4b5d6e4f708192a3b4c5d6e7f8"));
}

#[test]
fn load_defaults_come_from_the_flows_shape() {
    use app::model::examples::{ecommerce_orchestrated, order_processing};
    use app::model::lab::load_defaults;
    // Four steps when nothing fails (the failure route's two are not reached).
    let d = load_defaults(&ecommerce_orchestrated());
    assert_eq!((d.steps_per_run, d.capacity, d.message_ms), (4, 4, 10));
    assert_eq!(d.orchestrator_takes, 100.0);
    assert_eq!(d.rate, 150);
    let d = load_defaults(&order_processing());
    assert_eq!(d.steps_per_run, 3);
    assert_eq!(d.rate, 200);
}
