//! Live input through cpal and ALSA, on ALSA's null capture device (silence): the whole live path
//! (device, stream, ring buffer, follower, CSV) runs without a sound card. Linux only.

#![cfg(all(target_os = "linux", feature = "mic"))]

mod common;

use std::process::Command;

#[test]
fn follows_live_input_from_a_device() {
    let home = std::env::temp_dir().join(format!("segno-alsa-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(
        home.join(".asoundrc"),
        "pcm.!default { type plug slave.pcm \"silence\" }\npcm.silence { type null }\n",
    )
    .unwrap();
    let out = home.join("live.csv");
    let o = Command::new(env!("CARGO_BIN_EXE_segno"))
        .env("HOME", &home)
        .args(["follow", "--score"])
        .arg(common::example("minuet.musicxml"))
        .args(["--input", "mic", "--seconds", "1.5", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(stderr.contains("listening on '"), "{stderr}");
    let rows: Vec<String> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .skip(1)
        .map(str::to_owned)
        .collect();
    // 1.5 s at 43 frames per second, and silence is not a performance yet.
    assert!((60..=75).contains(&rows.len()), "{} rows", rows.len());
    assert!(rows.iter().all(|r| r.split(',').nth(7) == Some("waiting")));

    // Every listed device can be chosen by its name.
    let o = Command::new(env!("CARGO_BIN_EXE_segno"))
        .env("HOME", &home)
        .args(["follow", "--list-devices"])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&o.stdout)
        .lines()
        .next()
        .map(str::to_owned)
        .expect("no input device listed");
    let o = Command::new(env!("CARGO_BIN_EXE_segno"))
        .env("HOME", &home)
        .args(["follow", "--score"])
        .arg(common::example("minuet.musicxml"))
        .args([
            "--input",
            "mic",
            "--device",
            &listed,
            "--seconds",
            "0.3",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.success() && stderr.contains(&format!("listening on '{listed}'")),
        "{stderr}"
    );
}
