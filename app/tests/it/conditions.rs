//! Conditions on the run data (CEL): what they decide, the fields they read, and every bound
//! a hostile condition meets while it is read.
#![cfg(feature = "conditions")]

use app::model::condition::{
    Condition, ConditionError, MAX_CONDITION_CHARS, MAX_CONDITION_NESTING,
};
use serde_json::{json, Map, Value};

fn data(v: Value) -> Map<String, Value> {
    v.as_object().expect("an object").clone()
}

fn holds(condition: &str, v: Value) -> Result<bool, ConditionError> {
    Condition::read(condition)?.holds(&data(v))
}

#[test]
fn a_condition_decides_on_the_run_data() {
    let order = json!({"amount": 150, "approved": true, "customer": {"tier": "gold"}, "tags": ["vip", "eu"], "rate": 0.25});
    assert_eq!(holds("amount > 100", order.clone()), Ok(true));
    assert_eq!(holds("amount <= 100", order.clone()), Ok(false));
    assert_eq!(
        holds("approved && customer.tier == \"gold\"", order.clone()),
        Ok(true)
    );
    assert_eq!(
        holds("'vip' in tags && size(tags) == 2", order.clone()),
        Ok(true)
    );
    assert_eq!(holds("rate * 4.0 == 1.0", order.clone()), Ok(true));
    assert_eq!(
        holds("has(customer.tier) && !has(customer.vat)", order.clone()),
        Ok(true)
    );
    assert_eq!(
        holds("customer.tier.startsWith('go') ? amount > 1 : false", order),
        Ok(true)
    );
    // The same condition, other data: the other answer.
    let small = json!({"amount": 40, "approved": false, "customer": {"tier": "silver"}});
    assert_eq!(holds("amount > 100", small.clone()), Ok(false));
    assert_eq!(
        holds("approved || customer.tier == 'silver'", small),
        Ok(true)
    );
}

#[test]
fn a_condition_names_the_fields_it_reads() {
    let c = Condition::read("  amount > 100 && customer.tier == 'gold' || 'vip' in tags ").unwrap();
    assert_eq!(
        c.fields().collect::<Vec<_>>(),
        ["amount", "customer", "tags"]
    );
    assert_eq!(
        c.source(),
        "amount > 100 && customer.tier == 'gold' || 'vip' in tags"
    );
}

#[test]
fn what_cannot_be_decided_says_why() {
    assert_eq!(
        holds("amount > 100", json!({"total": 3})),
        Err(ConditionError::NoField("amount".into()))
    );
    assert_eq!(
        holds(
            "customer.tier == 'gold'",
            json!({"customer": {"name": "Kim"}})
        ),
        Err(ConditionError::NoField("tier".into()))
    );
    assert!(matches!(
        holds("amount + 1", json!({"amount": 1})),
        Err(ConditionError::NotBoolean(_))
    ));
    assert!(matches!(
        holds("amount > 'many'", json!({"amount": 1})),
        Err(ConditionError::Failed(_))
    ));
    assert_eq!(
        ConditionError::NoField("amount".into()).to_string(),
        "the run data has no field \"amount\""
    );
}

#[test]
fn a_hostile_condition_is_refused_at_its_bound_while_it_is_read() {
    assert_eq!(Condition::read("   ").unwrap_err(), ConditionError::Empty);
    // Length: counted before the parser sees it.
    let long = format!("amount > {}", "1".repeat(MAX_CONDITION_CHARS));
    assert_eq!(
        Condition::read(&long).unwrap_err(),
        ConditionError::TooLong {
            chars: MAX_CONDITION_CHARS + 9,
            limit: MAX_CONDITION_CHARS
        }
    );
    // Nesting: as deep as the length allows is refused by the parser's own bound, and the
    // server's stack is never at stake (the parser runs on its own thread).
    let depth = (MAX_CONDITION_CHARS - 1) / 2;
    let deep = format!("{}1{}", "(".repeat(depth), ")".repeat(depth));
    assert!(deep.len() <= MAX_CONDITION_CHARS);
    assert!(
        matches!(Condition::read(&deep), Err(ConditionError::Unreadable(_))),
        "{deep}"
    );
    // Chains the parser reads without recursing still nest the expression that evaluation
    // walks: refused at the same bound.
    let select_chain = format!("a{}", ".b".repeat((MAX_CONDITION_CHARS - 1) / 2));
    assert!(
        matches!(Condition::read(&select_chain), Err(ConditionError::Unreadable(m)) if m.contains("nested more than"))
    );
    let sum_chain = format!("1{} > 0", " + 1".repeat(90));
    assert!(
        matches!(Condition::read(&sum_chain), Err(ConditionError::Unreadable(m)) if m.contains("nested more than"))
    );
    // Repeated negations fold as CEL says (an even run is none): nothing deep is left.
    let negations = format!("{}true", "!".repeat(MAX_CONDITION_CHARS - 4));
    assert_eq!(
        Condition::read(&negations).unwrap().holds(&Map::new()),
        Ok(true)
    );
    // Within the bound, nesting reads.
    let fine = usize::from(MAX_CONDITION_NESTING) / 3;
    let nested = format!("{}amount > 1{}", "(".repeat(fine), ")".repeat(fine));
    assert_eq!(
        Condition::read(&nested)
            .unwrap()
            .holds(&data(json!({"amount": 2}))),
        Ok(true)
    );
    // Not CEL at all.
    assert!(matches!(
        Condition::read("amount >"),
        Err(ConditionError::Unreadable(_))
    ));
    assert!(matches!(
        Condition::read("amount => 1"),
        Err(ConditionError::Unreadable(_))
    ));
}

#[test]
fn loops_and_functions_outside_the_list_are_refused_by_name() {
    for (condition, name) in [
        ("items.all(i, i > 0)", "all"),
        ("items.exists(i, i == 2)", "exists"),
        ("items.exists_one(i, i == 2)", "exists_one"),
        ("items.map(i, i * 2).size() > 0", "map"),
        ("size(items.filter(i, i > 1)) == 1", "filter"),
    ] {
        assert_eq!(
            Condition::read(condition).unwrap_err(),
            ConditionError::Comprehension(name.into()),
            "{condition}"
        );
    }
    assert_eq!(
        Condition::read("name.matches('^a.*')").unwrap_err(),
        ConditionError::Function("matches".into())
    );
    assert_eq!(
        Condition::read("timestamp(at) > timestamp('2026-01-01T00:00:00Z')").unwrap_err(),
        ConditionError::Function("timestamp".into())
    );
    assert_eq!(
        ConditionError::Comprehension("all".into()).to_string(),
        "all() is not available in a condition (a condition may not loop over a list)"
    );
}
