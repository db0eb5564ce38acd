// TEMPORARY placeholder so the crate compiles while helper-1 writes the real module; it will be replaced.
pub struct KeywordExtractor;
impl KeywordExtractor {
    pub fn builtin() -> Self { KeywordExtractor }
    pub fn extract(&self, _t: &str, _k: usize) -> Vec<String> { Vec::new() }
}
