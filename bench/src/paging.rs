//! Pagination end to end: every user of a listing of 100 and of 1,000 cursor pages of 100,
//! through the client's pagination stream, against a hand-written cursor loop; wall time,
//! requests per second, and the peak heap while streaming (which must not grow with the
//! number of pages).

use std::time::{Duration, Instant};

use futures::TryStreamExt;

use crate::report::Row;
use crate::{Failure, alloc, hand::Hand, payloads, stats};

struct Run {
    wall: Duration,
    pages: u64,
    users: u64,
    peak: u64,
    /// Bytes live when the last item arrived (the stream still open): what it kept.
    live: u64,
}

fn zendesk_client(base: &str, pages: u64) -> Result<zendesk_api::Client, Failure> {
    let credentials = zendesk_api::api_token_credentials("bench@example.com", "token")?;
    let config = zendesk_api::ClientConfig::new().base_url(format!("{base}/p{pages}"));
    Ok(zendesk_api::Client::with_config(credentials, config)?)
}

/// Every user through the generated client's stream, counted and dropped as they come.
async fn generated(base: &str, pages: u64) -> Result<Run, Failure> {
    let client = zendesk_client(base, pages)?;
    alloc::start();
    let started = Instant::now();
    let mut users = 0u64;
    let mut stream = client.list_users().page_size(100u32).stream();
    let mut live = 0;
    while let Some(user) = stream.try_next().await? {
        users += u64::from(user.id > 0);
        live = alloc::live();
    }
    let wall = started.elapsed();
    drop(stream);
    let peak = alloc::stop();
    Ok(Run {
        wall,
        pages,
        users,
        peak,
        live,
    })
}

/// The same through SendAuth's page-number stream.
async fn sendauth(base: &str, pages: u64) -> Result<Run, Failure> {
    let credentials = sendauth_api::Credentials::basic("bench", "password")?;
    let config = sendauth_api::ClientConfig::new().base_url(format!("{base}/p{pages}"));
    let client = sendauth_api::Client::with_config(credentials, config)?;
    alloc::start();
    let started = Instant::now();
    let mut users = 0u64;
    let mut stream = client.list_users().per_page(100u64).stream();
    let mut live = 0;
    while let Some(user) = stream.try_next().await? {
        users += u64::from(!user.first_name.is_empty());
        live = alloc::live();
    }
    let wall = started.elapsed();
    drop(stream);
    let peak = alloc::stop();
    Ok(Run {
        wall,
        pages,
        users,
        peak,
        live,
    })
}

/// A hand-written loop: reqwest, `page[after]`, hand-written structs.
async fn by_hand(
    base: &str,
    auth: &reqwest::header::HeaderValue,
    pages: u64,
) -> Result<Run, Failure> {
    let hand = Hand::new(&format!("{base}/p{pages}"), auth.clone());
    alloc::start();
    let started = Instant::now();
    let (users, fetched) = hand.count_all_users(payloads::PAGE_SIZE).await?;
    let wall = started.elapsed();
    let live = alloc::live();
    let peak = alloc::stop();
    Ok(Run {
        wall,
        pages: fetched,
        users,
        peak,
        live,
    })
}

fn check(run: &Run, pages: u64, who: &str) -> Result<(), Failure> {
    let want = pages * payloads::PAGE_SIZE as u64;
    if run.users != want || run.pages != pages {
        return Err(format!(
            "{who}: {} users in {} pages, expected {want} in {pages}",
            run.users, run.pages
        )
        .into());
    }
    Ok(())
}

/// The min, median and max peak heap of `runs`.
fn median_peak(runs: &[Run]) -> (u64, u64, u64) {
    let mut peaks: Vec<u64> = runs.iter().map(|r| r.peak).collect();
    peaks.sort_unstable();
    match (peaks.first(), peaks.last()) {
        (Some(&min), Some(&max)) => (min, peaks[peaks.len() / 2], max),
        _ => (0, 0, 0),
    }
}

/// The run with the median wall time (runs are few and long; the median drops an outlier).
fn median_run(mut runs: Vec<Run>) -> Run {
    runs.sort_by_key(|r| r.wall);
    let mid = runs.len() / 2;
    runs.swap_remove(mid)
}

/// The pagination rows.
pub async fn pagination(
    quick: bool,
    base: String,
    auth: reqwest::header::HeaderValue,
) -> Result<Vec<Row>, Failure> {
    let (base, auth) = (base.as_str(), &auth);
    let (small, large, repeats) = if quick { (10, 100, 1) } else { (100, 1000, 8) };
    // Warm-up: connections, lazy statics, the allocator's arenas.
    generated(base, 2).await?;
    by_hand(base, auth, 2).await?;
    sendauth(base, 2).await?;

    let mut rows = Vec::new();
    let mut peaks = Vec::new();
    for pages in [small, large] {
        let (mut gen_runs, mut hand_runs) = (Vec::new(), Vec::new());
        // The order alternates (generated first, then the hand-written loop first): a run
        // is long enough for the machine to drift between the two, and whichever runs second
        // in every pair would carry that drift in every ratio.
        for repeat in 0..repeats {
            let hand_first = repeat % 2 == 1;
            if hand_first {
                hand_runs.push(by_hand(base, auth, pages).await?);
            }
            let run = generated(base, pages).await?;
            check(&run, pages, "zendesk stream")?;
            gen_runs.push(run);
            if !hand_first {
                hand_runs.push(by_hand(base, auth, pages).await?);
            }
        }
        for run in &hand_runs {
            check(run, pages, "hand-written loop")?;
        }
        // Paired by repeat (each generated run beside the hand-written one next to it): the
        // median ratio and its spread. Peaks: the median of the runs (min–max beside it);
        // a run's peak moves with the connection's read buffer, which hyper grows when a
        // body arrives in larger pieces, in either client alike.
        let ratios: Vec<f64> = (gen_runs.iter().zip(&hand_runs))
            .map(|(g, h)| stats::ratio(g.wall, h.wall))
            .collect();
        let spread = stats::spread(&ratios);
        let live_gen = gen_runs.iter().map(|r| r.live).max().unwrap_or(0);
        let peak_gen = median_peak(&gen_runs);
        let peak_hand = median_peak(&hand_runs);
        let g = median_run(gen_runs);
        let h = median_run(hand_runs);
        peaks.push((pages, peak_gen, peak_hand, live_gen));
        let detail = |r: &Run, peak: (u64, u64, u64)| {
            format!(
                "{} · {} · peak heap {} ({}–{})",
                stats::rate(r.pages as f64, r.wall, "req"),
                stats::rate(r.users as f64, r.wall, "users"),
                stats::bytes(peak.1),
                stats::bytes(peak.0),
                stats::bytes(peak.2)
            )
        };
        let n = stats::thousands(pages);
        rows.push(Row::new(
            "pagination",
            &format!("Zendesk `list_users().page_size(100).stream()`, {n} pages × 100"),
            stats::time(g.wall),
            detail(&g, peak_gen),
            format!("**{spread}** hand-written loop (paired by run)"),
        ));
        rows.push(Row::new(
            "pagination",
            &format!("Zendesk hand-written cursor loop (reqwest + serde), {n} pages × 100"),
            stats::time(h.wall),
            detail(&h, peak_hand),
            "baseline".into(),
        ));
    }
    let (p_small, gen_small, hand_small, live_small) = peaks[0];
    let (p_large, gen_large, hand_large, live_large) = peaks[1];
    let growth = |large: u64, small: u64| large as f64 / (small as f64).max(1.0);
    // What the stream keeps: the heap live at its last item (the most of the runs), which
    // would grow with the pages if it kept anything per page. The peaks are beside it: a
    // run's peak moves with how the bodies arrive (a body read in more pieces is
    // concatenated, and hyper grows a connection's read buffer), in either client.
    rows.push(Row::new(
        "pagination",
        &format!(
            "heap kept by the Zendesk stream at its last item, {} pages vs {} pages",
            stats::thousands(p_large),
            stats::thousands(p_small)
        ),
        stats::bytes(live_large),
        format!(
            "vs {}; peak heap (medians of the runs) {} vs {} ({:.2}×), the hand-written \
             loop's {} vs {} ({:.2}×)",
            stats::bytes(live_small),
            stats::bytes(gen_large.1),
            stats::bytes(gen_small.1),
            growth(gen_large.1, gen_small.1),
            stats::bytes(hand_large.1),
            stats::bytes(hand_small.1),
            growth(hand_large.1, hand_small.1)
        ),
        format!("**{:.2}×** (flat is 1.0×)", growth(live_large, live_small)),
    ));
    let mut sa_runs = Vec::new();
    for _ in 0..repeats {
        let run = sendauth(base, large).await?;
        check(&run, large, "sendauth stream")?;
        sa_runs.push(run);
    }
    let peak = sa_runs.iter().map(|r| r.peak).max().unwrap_or(0);
    let s = median_run(sa_runs);
    rows.push(Row::new(
        "pagination",
        &format!(
            "SendAuth `list_users().per_page(100).stream()`, {} pages × 100",
            stats::thousands(large)
        ),
        stats::time(s.wall),
        format!(
            "{} · {} · peak heap {}",
            stats::rate(s.pages as f64, s.wall, "req"),
            stats::rate(s.users as f64, s.wall, "users"),
            stats::bytes(peak)
        ),
        "—".into(),
    ));
    Ok(rows)
}
