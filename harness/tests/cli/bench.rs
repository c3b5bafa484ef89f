//! `bench` figures checked against each other: the ratio is the quotient
//! of the two times it prints (the data cases see the figures only as
//! placeholders).

use crate::support::sim;

#[test]
fn bench_on_the_mock_prints_the_mock_beside_the_engine_and_their_ratio() {
    let out = sim()
        .args(["bench", "uppercase", "--backend", "mock"])
        .args(["--payload", "64", "--elements", "210"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    assert!(
        lines[0].starts_with("process `uppercase`: 210 elements of 64 B in 7 rounds"),
        "{text}"
    );
    // Each row: its name, a figure, `ns/element`; the ratio is mock / engine.
    let figure = |line: &str, name: &str| -> f64 {
        let rest = line
            .trim_start()
            .strip_prefix(name)
            .unwrap_or_else(|| panic!("expected a `{name}` row, got {line:?} in\n{text}"));
        rest.split_whitespace().next().unwrap().parse().unwrap()
    };
    let engine = figure(lines[1], "engine");
    let mock = figure(lines[2], "mock");
    assert!(lines[1].ends_with("ns/element") && lines[2].ends_with("ns/element"));
    assert!(lines[3].ends_with("(mock / engine)"), "{text}");
    assert!(
        lines[4].starts_with("  compile   ") && lines[4].contains("the mock built its model"),
        "{text}"
    );
    let ratio = figure(lines[3], "ratio");
    assert!(engine > 0.0 && mock > 0.0);
    assert!(
        (ratio - mock / engine).abs() <= 0.001 + ratio * 0.001,
        "ratio {ratio} is mock {mock} / engine {engine} up to rounding"
    );

    // A component without a mock model: cases/bench/mock.t.
}
