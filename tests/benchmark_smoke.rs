//! One real human performance from the benchmark, end to end. Skipped (with a message) where the
//! benchmark data is not beside the repository.

mod common;

use segno::eval::cases::load_cases;
use segno::eval::run::{run_case, EvalConfig};

#[test]
fn a_real_performance_is_followed_and_aligned() {
    let Some(dir) = common::benchmark_dir() else {
        return;
    };
    let cases = load_cases(&dir).unwrap();
    let case = cases
        .iter()
        .find(|c| c.id == "vienna_mozart_k331_1st_mov_p04")
        .expect("case in dev");
    let cfg = EvalConfig::new(common::reference_font(), common::performance_font());
    let r = run_case(case, &cfg).unwrap();
    let (online, offline) = (r.online(), r.offline());
    eprintln!("online {online:?}\noffline {offline:?}");
    assert!(
        online.within[5] >= 0.9,
        "online within 500 ms: {:.3}",
        online.within[5]
    );
    assert!(
        offline.within[2] >= 0.8,
        "offline within 100 ms: {:.3}",
        offline.within[2]
    );
    assert!(r.longest_lost_s < 5.0);
}
