//! A stop is seen as soon as the signal is handled, not when the watcher thread gets to
//! it: SLURM signals every process of a job step together, and the thread that sees a
//! LAMMPS child end from that SIGTERM must already find the stop asked for. Its own test
//! binary: the signal goes to this process.

#[test]
fn a_stop_is_seen_as_soon_as_the_signal_is_handled() {
    gcnet_interrupt::install().unwrap();
    assert_eq!(gcnet_interrupt::requested(), None);
    // raise(3) runs the handler on this thread before it returns; the watcher thread may
    // not have woken yet
    signal_hook::low_level::raise(signal_hook::consts::SIGTERM).unwrap();
    assert_eq!(gcnet_interrupt::requested(), Some("SIGTERM"));
}
