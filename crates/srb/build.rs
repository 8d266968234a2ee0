// The same libtorch link settings as the network crate (network tracer training links
// libtorch through gcnet-net).
include!("../net/build.rs");
