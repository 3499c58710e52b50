//! Parse-only throughput of a realistic SBI-style CSV (the same generator as
//! `scale bench import`): `cargo run --release -p scale-statements --example parse_rate [rows [runs]]`.
//! Prints the best of `runs` (3) runs of `rows` (100,000) rows in rows per second, with the
//! allocator the service runs with (mimalloc).

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use scale_statements::pipeline;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let rows = std::env::args()
        .nth(1)
        .map_or(100_000, |n| n.parse().expect("rows: a number"));
    let runs: usize = std::env::args()
        .nth(2)
        .map_or(3, |n| n.parse().expect("runs: a number"));
    let csv = statement(rows);
    let (mut best, mut best_cpu) = (Duration::MAX, Duration::MAX);
    let mut parsed = 0;
    for _ in 0..runs {
        let (started, cpu_started) = (Instant::now(), cpu_time());
        let statement = pipeline::parse_file(&csv, "bench.csv", None).expect("parses");
        parsed = statement.transactions.len();
        // Dropped inside the timing, as `scale bench import` does.
        drop(statement);
        best = best.min(started.elapsed());
        if let (Some(start), Some(end)) = (cpu_started, cpu_time()) {
            best_cpu = best_cpu.min(end - start);
        }
    }
    let rate = parsed as f64 / best.as_secs_f64();
    let cpu_rate = parsed as f64 / best_cpu.as_secs_f64();
    println!(
        "{parsed} rows ({} bytes) in {:.3}s: {rate:.0} rows/s ({:.1}x 21,000 rows/s); \
         on-CPU {:.3}s: {cpu_rate:.0} rows/s",
        csv.len(),
        best.as_secs_f64(),
        rate / 21_000.0,
        best_cpu.as_secs_f64(),
    );
}

/// Time this thread has spent on a CPU (Linux `schedstat`; `None` elsewhere): on a machine
/// shared with other work, a steadier measure than the wall clock.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

/// A realistic SBI-style statement of `rows` transactions: UPI, POS, ATM, NEFT and card rows
/// with varying payees, references, dates and amounts (deterministic; as in
/// `src/bench/import.rs`).
fn statement(rows: usize) -> Vec<u8> {
    const PAYEES: &[&str] = &[
        "SHAIK YA",
        "RAVI KUMAR",
        "MEERA MOHIDDIN",
        "John Doe",
        "Zomatofo",
        "SWIGGY",
        "PADMA M",
        "AMAZON PAY",
    ];
    const PLACES: &[&str] = &["BANGALORE", "NELLORE", "CHENNAI", "MUMBAI"];
    let mut seed: u64 = 0x5EED;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        seed >> 33
    };
    let mut out = String::from("State Bank of India,,,,,\nAccount Number,XXXXXXX1234,,,,\n,,,,,\nDate,Details,Ref No.,Debit,Credit,Balance\n");
    let start = chrono::NaiveDate::from_ymd_opt(2023, 1, 1).expect("valid date");
    let mut balance: i64 = 5_000_000;
    for i in 0..rows {
        let day = start + chrono::Duration::days((i / 100) as i64);
        let payee = PAYEES[(next() % PAYEES.len() as u64) as usize];
        let place = PLACES[(next() % PLACES.len() as u64) as usize];
        let reference = 100_000_000_000 + next() % 899_999_999_999;
        let paise = 100 + (next() % 500_000) as i64;
        let credit = next() % 5 == 0;
        balance += if credit { paise } else { -paise };
        let details = match next() % 4 {
            0 => format!(
                "WDL TFR UPI/DR/{reference}/{payee}/SBIN/upi{i}/Paym... AT 04413 PBB {place}"
            ),
            1 => format!("POS ATM PURCH OTHPG {reference} 17Pho*{payee} {place}"),
            2 => format!("NEFT/N{reference}/{payee}/HDFC/SBI"),
            _ => format!("ATM WDL ATM CASH {} SP OFFICE, {place}", reference % 10_000),
        };
        let amount = format!("\"{}.{:02}\"", paise / 100, paise % 100);
        let (debit, credit) = if credit {
            (String::new(), amount)
        } else {
            (amount, String::new())
        };
        let _ = writeln!(
            out,
            "{},\"{details}\",{reference},{debit},{credit},{:.2}",
            day.format("%d/%m/%Y"),
            balance as f64 / 100.0
        );
    }
    out.into_bytes()
}
