//! Shell completions: each script is clap_complete's, so the test checks
//! that it is the right shell's and completes every command, not its text.

use crate::support::sim;

#[test]
fn completions_for_each_shell() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef torvyn-sim"),
        ("fish", "complete -c torvyn-sim"),
    ] {
        let out = sim().args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(script.contains(marker), "{shell}: {script}");
        for sub in ["run", "pipeline", "inspect", "check", "demo", "bench"] {
            assert!(script.contains(sub), "{shell} completes {sub}");
        }
    }
    // An unknown shell: cases/help/completions.t.
}
