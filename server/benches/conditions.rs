//! What a condition on the run data costs (issue #27: "the cost of a condition evaluation
//! per step"): reading one (parsed once per workflow, on a thread of its own) and deciding
//! it against run data of a few fields, the way a deciding step will, per evaluation.
//!
//! `cargo bench -p server --bench conditions`

use std::time::Instant;

use app::model::condition::Condition;
use serde_json::json;

const EVALUATIONS: u32 = 200_000;
const READS: u32 = 200;

fn main() {
    let data = json!({
        "amount": 150, "approved": true, "customer": {"tier": "gold", "country": "KR"},
        "tags": ["vip", "eu"], "card": "visa"
    });
    let data = data.as_object().expect("an object").clone();
    for source in [
        "amount > 100",
        "approved && customer.tier == 'gold'",
        "amount * 2 > 250 && 'vip' in tags && customer.country.startsWith('K') || card == 'amex'",
    ] {
        let started = Instant::now();
        for _ in 0..READS {
            std::hint::black_box(Condition::read(source).expect("reads"));
        }
        let read = started.elapsed() / READS;
        let condition = Condition::read(source).expect("reads");
        let started = Instant::now();
        let mut taken = 0u32;
        for _ in 0..EVALUATIONS {
            taken += u32::from(
                condition
                    .holds(std::hint::black_box(&data))
                    .expect("decides"),
            );
        }
        let per = started.elapsed() / EVALUATIONS;
        println!(
            "{source:?}: read {read:?}, decided {per:?} per evaluation ({:.0} per second; true {taken} of {EVALUATIONS})",
            1.0 / per.as_secs_f64()
        );
    }
}
