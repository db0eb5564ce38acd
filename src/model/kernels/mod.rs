//! CPU kernels of the fused encoder ([`super::fused`]): packed matrix products (f32 and int8) and
//! row-wise operations, each with an AVX-512 path chosen at run time and a portable one.

pub mod gemm;
pub mod ops;

use std::sync::OnceLock;

/// The instruction set the kernels use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isa {
    /// AVX-512 F/BW/VL/DQ with VNNI and FMA (Intel Ice Lake and later, AMD Zen 4 and later).
    Avx512,
    /// Plain Rust, any CPU.
    Portable,
}

impl Isa {
    /// The best instruction set this CPU has (detected once). `XINSHENG_PORTABLE_KERNELS=1` forces
    /// the portable kernels.
    pub fn detect() -> Isa {
        static ISA: OnceLock<Isa> = OnceLock::new();
        *ISA.get_or_init(|| {
            if std::env::var("XINSHENG_PORTABLE_KERNELS").is_ok_and(|v| v == "1") {
                return Isa::Portable;
            }
            #[cfg(target_arch = "x86_64")]
            {
                if std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512bw")
                    && std::arch::is_x86_feature_detected!("avx512vl")
                    && std::arch::is_x86_feature_detected!("avx512dq")
                    && std::arch::is_x86_feature_detected!("avx512vnni")
                    && std::arch::is_x86_feature_detected!("fma")
                {
                    return Isa::Avx512;
                }
            }
            Isa::Portable
        })
    }
}
