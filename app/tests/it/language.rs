//! Which language a request gets: the remembered choice, else Accept-Language's best
//! match, else English.

use app::i18n::Locale;
use app::ui::common::language::{accepted, for_request, MAX_ACCEPTED_LANGUAGES};

#[test]
fn accept_language_is_read_by_weight_then_order() {
    assert_eq!(
        accepted("ko-KR,ko;q=0.9,en-US;q=0.8,en;q=0.7"),
        ["ko-KR", "ko", "en-US", "en"]
    );
    assert_eq!(
        accepted("en;q=0.5, ko;q=0.8, *;q=0.1, fr;q=0"),
        ["ko", "en"]
    );
    assert_eq!(accepted(""), Vec::<&str>::new());
    let long = vec!["xx"; 1000].join(",");
    assert_eq!(accepted(&long).len(), MAX_ACCEPTED_LANGUAGES);
}

#[test]
fn the_remembered_choice_comes_first_then_the_browser() {
    assert_eq!(for_request(None, None), Locale::en);
    assert_eq!(
        for_request(None, Some("ko-KR,ko;q=0.9,en;q=0.8")),
        Locale::ko
    );
    assert_eq!(
        for_request(None, Some("en-US,en;q=0.9,ko;q=0.8")),
        Locale::en
    );
    assert_eq!(for_request(None, Some("fr-FR,fr;q=0.9")), Locale::en);
    assert_eq!(
        for_request(Some("a=1; hybridflow_lang=en"), Some("ko")),
        Locale::en
    );
    assert_eq!(
        for_request(Some("hybridflow_lang=ko"), Some("en")),
        Locale::ko
    );
    // A cookie naming no language of ours is ignored.
    assert_eq!(
        for_request(Some("hybridflow_lang=xx"), Some("ko")),
        Locale::ko
    );
}
