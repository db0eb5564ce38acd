//! Structs read only from JSON objects. serde's derived `Deserialize` also reads a struct from an array,
//! field by field in order, so `["我要投诉"]` would pass as `{"text": "我要投诉"}` and `[["customer", "喂"]]` as
//! a list of turns. Requests are documented as objects; anything else is refused with a clear message.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};

/// A `T` that was written as a JSON object.
#[derive(Debug, Clone, PartialEq)]
pub struct Object<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct OnlyMaps<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for OnlyMaps<T> {
            type Value = T;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map))
            }
        }
        d.deserialize_map(OnlyMaps(PhantomData)).map(Object)
    }
}

/// `deserialize_with` for an optional list of structs, each of which must be a JSON object.
pub fn option_vec<'de, D, T>(d: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    let v: Option<Vec<Object<T>>> = Option::deserialize(d)?;
    Ok(v.map(|xs| xs.into_iter().map(|Object(x)| x).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Turn {
        speaker: String,
        text: String,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Req {
        #[serde(default)]
        text: Option<String>,
        #[serde(default, deserialize_with = "option_vec")]
        turns: Option<Vec<Turn>>,
    }

    #[test]
    fn objects_are_read_and_arrays_refused() {
        let Object(r): Object<Req> = serde_json::from_str(r#"{"text": "喂", "x": 1}"#).unwrap();
        assert_eq!(r.text.as_deref(), Some("喂"));
        assert_eq!(r.turns, None);
        let Object(r): Object<Req> =
            serde_json::from_str(r#"{"turns": [{"speaker": "customer", "text": "喂"}]}"#).unwrap();
        assert_eq!(r.turns.unwrap()[0].text, "喂");
        let Object(r): Object<Req> = serde_json::from_str(r#"{"turns": null}"#).unwrap();
        assert_eq!(r.turns, None);

        // Plain derive reads both arrays by position; the wrapper refuses them.
        assert!(serde_json::from_str::<Req>(r#"["喂"]"#).is_ok());
        for bad in [
            r#"["喂"]"#,
            r#"{"turns": [["customer", "喂"]]}"#,
            "\"喂\"",
            "3",
        ] {
            let e = serde_json::from_str::<Object<Req>>(bad).unwrap_err();
            assert!(e.to_string().contains("a JSON object"), "{bad}: {e}");
        }
    }
}
