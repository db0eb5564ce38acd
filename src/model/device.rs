//! `--device cpu|cuda[:N]`.

use super::ModelError;
use candle_core::Device;

/// Parses a device name. CUDA needs the `cuda` cargo feature and a GPU; CPU always works.
pub fn parse_device(name: &str) -> Result<Device, ModelError> {
    let name = name.trim().to_ascii_lowercase();
    if name == "cpu" {
        return Ok(Device::Cpu);
    }
    let ordinal = match name.strip_prefix("cuda") {
        Some("") => 0,
        Some(rest) => rest
            .strip_prefix(':')
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| {
                ModelError::Device(format!("bad device {name:?}: use cpu, cuda or cuda:N"))
            })?,
        None => {
            return Err(ModelError::Device(format!(
                "unknown device {name:?}: use cpu, cuda or cuda:N"
            )))
        }
    };
    if !cfg!(feature = "cuda") {
        return Err(ModelError::Device(
            "this build has no CUDA support: rebuild with `--features cuda`".into(),
        ));
    }
    Device::new_cuda(ordinal).map_err(|e| ModelError::Device(format!("cuda:{ordinal}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_and_errors() {
        assert!(parse_device("cpu").unwrap().is_cpu());
        assert!(parse_device(" CPU ").unwrap().is_cpu());
        assert!(parse_device("tpu").is_err());
        assert!(parse_device("cuda:x").is_err());
        #[cfg(not(feature = "cuda"))]
        assert!(parse_device("cuda:0")
            .unwrap_err()
            .to_string()
            .contains("--features cuda"));
    }
}
