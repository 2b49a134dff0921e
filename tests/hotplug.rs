//! `vtopo hotplug` against a control socket served by vmm-backend's
//! connection handler and a real `Lifecycle` (a test hypervisor stands in for
//! KVM): requests travel CLI -> Unix socket -> lifecycle and back.

use std::os::unix::net::UnixListener;
use std::path::PathBuf;

use vmm_backend::control::{serve_connection, Reply};
use vmm_backend::lifecycle::{Hypervisor, Lifecycle, Start};

use crate::iasl::tempdir;
use crate::util::vtopo;

/// A hypervisor that accepts everything (the lifecycle's own tests enforce KVM's rules).
struct NullHv;

#[derive(Debug, thiserror::Error)]
#[error("never")]
struct Never;

impl Hypervisor for NullHv {
    type Error = Never;
    fn create_vcpu(&mut self, _: u32, _: u64) -> Result<(), Never> {
        Ok(())
    }
    fn set_mpidr(&mut self, _: u32, _: u64) -> Result<(), Never> {
        Ok(())
    }
    fn finalize_irqchip(&mut self) -> Result<(), Never> {
        Ok(())
    }
    fn run_vcpu(&mut self, _: u32, _: Option<Start>) -> Result<(), Never> {
        Ok(())
    }
    fn park_vcpu(&mut self, _: u32) -> Result<(), Never> {
        Ok(())
    }
}

/// A control socket serving `connections` connections for the lab x86 plan.
fn serve(connections: usize) -> PathBuf {
    let socket = tempdir("hotplug").join("control.sock");
    let listener = UnixListener::bind(&socket).expect("bind");
    let source = std::fs::read_to_string(crate::util::root().join("topologies/lab-x86-q35.toml"))
        .expect("topology");
    let plan = planner::plan_source("lab-x86-q35.toml", &source).expect("valid");
    std::thread::spawn(move || {
        let mut hv = NullHv;
        let mut life = Lifecycle::new(&plan);
        life.boot(&mut hv).expect("boot");
        for stream in listener.incoming().take(connections) {
            let stream = stream.expect("connection");
            let reader = std::io::BufReader::new(stream.try_clone().expect("clone"));
            let _ = serve_connection(reader, stream, &mut |request| match request {
                Ok(r) => life.handle(&mut hv, &r).0,
                Err(e) => Reply::error(e.to_string()),
            });
        }
    });
    socket
}

#[test]
fn test_hotplug_client_adds_removes_and_reports_through_the_lifecycle() {
    let socket = serve(4);
    let s = socket.to_str().expect("utf-8");
    let add = vtopo(&["hotplug", s, "add", "--cpu", "4"]);
    assert_eq!(
        add.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&add.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&add.stdout),
        "{\"ok\":true,\"cpus\":[4]}\n"
    );
    let remove = vtopo(&["hotplug", s, "remove", "--cpu", "4"]);
    assert_eq!(remove.status.code(), Some(0));
    let status = vtopo(&["hotplug", s, "status"]);
    let reply: serde_json::Value = serde_json::from_slice(&status.stdout).expect("JSON reply");
    assert_eq!(reply["status"][4]["state"], "removing");
    assert_eq!(reply["status"][0]["state"], "present");
    assert_eq!(reply["status"][5]["state"], "absent");
    // The VM refuses: exit 1, the reason on stderr.
    let refused = vtopo(&["hotplug", s, "add", "--cpu", "0"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr)
        .contains("CPU 0 is a boot CPU, not a hotpluggable slot"));
}

#[test]
fn test_hotplug_session_answers_each_line_on_one_connection() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    // One connection only: a second one would never be served.
    let socket = serve(1);
    let mut child = Command::new(env!("CARGO_BIN_EXE_vtopo"))
        .args(["hotplug", socket.to_str().expect("utf-8"), "session"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("vtopo runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(
            b"{\"cmd\":\"add\",\"cpu\":4}\n\n  \n{\"cmd\":\"add\",\"cpu\":4}\nnot json\n{\"cmd\":\"status\"}\n",
        )
        .expect("requests");
    let out = child.wait_with_output().expect("vtopo ends");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let replies: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON reply per line"))
        .collect();
    assert_eq!(replies.len(), 4, "blank lines get no reply: {stdout}");
    assert_eq!(replies[0]["cpus"], serde_json::json!([4]));
    assert!(replies[1]["error"]
        .as_str()
        .is_some_and(|e| e.contains("CPU 4")));
    assert!(replies[2]["error"].is_string());
    assert_eq!(replies[3]["status"][4]["state"], "present");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("refused 2 request(s)"));
}

#[test]
fn test_hotplug_client_without_a_vm_names_the_socket() {
    let out = vtopo(&["hotplug", "/nonexistent/vtopo.sock", "status"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("control socket /nonexistent/vtopo.sock"));
}

#[test]
fn test_hotplug_add_needs_cpu_or_count() {
    assert_eq!(
        vtopo(&["hotplug", "/tmp/x.sock", "add"]).status.code(),
        Some(2)
    );
    assert_eq!(
        vtopo(&[
            "hotplug",
            "/tmp/x.sock",
            "add",
            "--cpu",
            "1",
            "--count",
            "2"
        ])
        .status
        .code(),
        Some(2)
    );
}
