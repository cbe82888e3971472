// Real-Tor tests are ignored (and say so) where `tor` cannot be present; see
// `postern_testnet::declare_tor_cfg`.
fn main() {
    postern_testnet::declare_tor_cfg();
}
