//! The CPU a run ran on, as the `runs` table records it.
//!
//! The network kernels sum in a fixed order whatever vector extensions the
//! CPU has, so a run gives the same bits on every x86-64 CPU (tested under
//! `qemu-x86_64 -cpu Nehalem`). The record is there so that a comparison
//! across machines can be checked, and so that, should two results ever
//! differ, each says where it ran.

/// The CPU's model and the vector extensions the kernels could use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cpu {
    /// The brand string, e.g. "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz".
    pub model: String,
    /// Space-separated extensions present, from a fixed list, e.g. "sse2 sse4.2 avx avx2 fma".
    pub features: String,
}

/// The CPU this process runs on. The model comes from CPUID rather than
/// `/proc/cpuinfo`, so an emulated CPU reports itself, not the host's.
pub fn this_cpu() -> Cpu {
    Cpu {
        model: model(),
        features: features().join(" "),
    }
}

#[cfg(target_arch = "x86_64")]
fn model() -> String {
    use std::arch::x86_64::__cpuid;
    const BRAND_FIRST: u32 = 0x8000_0002;
    const BRAND_LAST: u32 = 0x8000_0004;
    if __cpuid(0x8000_0000).eax < BRAND_LAST {
        return "unknown x86-64".into();
    }
    let bytes: Vec<u8> = (BRAND_FIRST..=BRAND_LAST)
        .flat_map(|leaf| {
            let r = __cpuid(leaf);
            [r.eax, r.ebx, r.ecx, r.edx]
        })
        .flat_map(u32::to_le_bytes)
        .take_while(|&b| b != 0)
        .collect();
    String::from_utf8_lossy(&bytes).trim().to_string()
}

#[cfg(not(target_arch = "x86_64"))]
fn model() -> String {
    std::env::consts::ARCH.to_string()
}

#[cfg(target_arch = "x86_64")]
fn features() -> Vec<&'static str> {
    let present = [
        ("sse2", is_x86_feature_detected!("sse2")),
        ("sse3", is_x86_feature_detected!("sse3")),
        ("ssse3", is_x86_feature_detected!("ssse3")),
        ("sse4.1", is_x86_feature_detected!("sse4.1")),
        ("sse4.2", is_x86_feature_detected!("sse4.2")),
        ("avx", is_x86_feature_detected!("avx")),
        ("avx2", is_x86_feature_detected!("avx2")),
        ("fma", is_x86_feature_detected!("fma")),
        ("avx512f", is_x86_feature_detected!("avx512f")),
    ];
    present
        .into_iter()
        .filter_map(|(name, yes)| yes.then_some(name))
        .collect()
}

#[cfg(not(target_arch = "x86_64"))]
fn features() -> Vec<&'static str> {
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_a_model_and_baseline_extensions() {
        let cpu = this_cpu();
        assert!(!cpu.model.is_empty());
        assert!(!cpu.model.contains('\0'), "{:?}", cpu.model);
        if cfg!(target_arch = "x86_64") {
            // SSE2 is part of x86-64 itself, so every such CPU lists it.
            assert!(
                cpu.features.split(' ').any(|f| f == "sse2"),
                "{}",
                cpu.features
            );
        }
    }
}
