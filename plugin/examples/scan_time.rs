//! How long a host's plugin scan takes: creates and destroys a `Segno.clap` instance, as a host
//! does when it scans, without activating it, and prints the median and worst times.
//!
//! `cargo run --release -p segno-plugin --example scan_time -- target/bundled/Segno.clap [N]`

use std::time::{Duration, Instant};

use clack_host::prelude::*;

struct Shared;
impl SharedHandler<'_> for Shared {
    fn request_restart(&self) {}
    fn request_process(&self) {}
    fn request_callback(&self) {}
}

struct ScanHost;
impl HostHandlers for ScanHost {
    type Shared<'a> = Shared;
    type MainThread<'a> = ();
    type AudioProcessor<'a> = ();
}

fn main() {
    let mut args = std::env::args().skip(1);
    let bundle = args.next().expect("usage: scan_time PATH/Segno.clap [N]");
    let n: usize = args
        .next()
        .map_or(50, |a| a.parse().expect("N is a number"));
    let entry = unsafe { PluginEntry::load(&bundle) }.expect("cannot load the bundle");
    let factory = entry.get_plugin_factory().expect("no plugin factory");
    let id = factory
        .plugin_descriptors()
        .next()
        .and_then(|d| d.id())
        .expect("no plugin in the bundle")
        .to_owned();
    let host = HostInfo::new("segno-scan", "Segno", "https://example.invalid", "0.1").unwrap();
    let mut times: Vec<Duration> = (0..n)
        .map(|_| {
            let start = Instant::now();
            let instance =
                PluginInstance::<ScanHost>::new(|_| Shared, |_| (), &entry, &id, &host).unwrap();
            drop(instance);
            start.elapsed()
        })
        .collect();
    times.sort();
    println!(
        "{bundle}: {n} instances created and destroyed, median {:.2} ms, worst {:.2} ms",
        times[n / 2].as_secs_f64() * 1e3,
        times[n - 1].as_secs_f64() * 1e3
    );
}
