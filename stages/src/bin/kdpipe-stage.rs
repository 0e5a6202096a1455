//! `kdpipe-stage`: runs one ML stage by fingerprint. The head binary `kdpipe`
//! never loads libtorch (about a second per process); `kdpipe exec-stage`
//! execs this binary for ML stage kinds.
fn main() {
    std::process::exit(stages::worker::main());
}
