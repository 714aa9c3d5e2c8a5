use segno::align::cost::{ClassicalCost, LocalCost};
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let score = segno::score::Score::load(a[1].as_ref()).unwrap();
    let font = segno::render::load_soundfont(&segno::render::find_soundfont(None).unwrap()).unwrap();
    let r = segno::reference::Reference::render(score, &font).unwrap();
    let d = segno::audio::decode_file(a[2].as_ref()).unwrap();
    let p = segno::features::extract(&d.samples, d.sample_rate);
    let c = ClassicalCost { onset_weight: a[3].parse().unwrap() };
    let n = r.features.len().min(p.len()) - 50;
    for k in (-30i64..=30).step_by(3) {
        let m: f32 = (50..n).map(|t| c.distance(p.frame(t), r.features.frame((t as i64 + k) as usize))).sum::<f32>() / (n - 50) as f32;
        println!("offset {k:4}: {m:.3}");
    }
}
