// The same libtorch link settings as the network crate.
include!("../net/build.rs");
