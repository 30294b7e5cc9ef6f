//! Reader for CTranslate2 `model.bin` (version 6): a flat list of named, typed tensors.
use std::collections::HashMap;

#[derive(Debug, thiserror::Error)]
pub enum Ct2Error {
    #[error("CTranslate2 model truncated at byte {0}")]
    Truncated(usize),
    #[error("unsupported CTranslate2 model version {0} (expected 6)")]
    Version(u32),
    #[error("unsupported dtype {dtype} for {name}")]
    Dtype { name: String, dtype: u8 },
    #[error("missing variable {0}")]
    Missing(String),
    #[error("variable {name} has shape {shape:?}, expected {want}")]
    Shape { name: String, shape: Vec<usize>, want: String },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DType {
    F32,
    I8,
    I16,
    I32,
    F16,
    BF16,
}

impl DType {
    fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            0 => Self::F32,
            1 => Self::I8,
            2 => Self::I16,
            3 => Self::I32,
            4 => Self::F16,
            5 => Self::BF16,
            _ => return None,
        })
    }
}

#[derive(Debug)]
pub struct Variable<'a> {
    pub shape: Vec<usize>,
    pub dtype: DType,
    pub data: &'a [u8],
}

impl Variable<'_> {
    /// Values as f32 whatever the stored float type; integers are an error for the caller.
    pub fn to_f32(&self) -> Option<Vec<f32>> {
        match self.dtype {
            DType::F32 => {
                Some(self.data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
            }
            DType::F16 => {
                Some(self.data.chunks_exact(2).map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32()).collect())
            }
            DType::BF16 => {
                Some(self.data.chunks_exact(2).map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32()).collect())
            }
            _ => None,
        }
    }

    /// A scalar integer (e.g. `num_heads`).
    pub fn scalar_int(&self) -> Option<i64> {
        match (self.dtype, self.data) {
            (DType::I8, [a, ..]) => Some(i64::from(*a as i8)),
            (DType::I16, [a, b, ..]) => Some(i64::from(i16::from_le_bytes([*a, *b]))),
            (DType::I32, [a, b, c, d, ..]) => Some(i64::from(i32::from_le_bytes([*a, *b, *c, *d]))),
            _ => None,
        }
    }
}

pub struct Model<'a> {
    pub spec: String,
    pub variables: HashMap<String, Variable<'a>>,
}

struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Ct2Error> {
        let end = self.pos.checked_add(n).filter(|e| *e <= self.buf.len()).ok_or(Ct2Error::Truncated(self.pos))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, Ct2Error> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, Ct2Error> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, Ct2Error> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn string(&mut self) -> Result<String, Ct2Error> {
        let n = self.u16()? as usize;
        let raw = self.take(n)?;
        Ok(String::from_utf8_lossy(raw).trim_end_matches('\0').to_string())
    }
}

impl<'a> Model<'a> {
    pub fn parse(buf: &'a [u8]) -> Result<Self, Ct2Error> {
        let mut c = Cursor { buf, pos: 0 };
        let version = c.u32()?;
        if version != 6 {
            return Err(Ct2Error::Version(version));
        }
        let spec = c.string()?;
        let _revision = c.u32()?;
        let count = c.u32()?;
        let mut variables = HashMap::new();
        for _ in 0..count {
            let name = c.string()?;
            let rank = c.u8()?;
            let shape = (0..rank).map(|_| c.u32().map(|d| d as usize)).collect::<Result<Vec<_>, _>>()?;
            let raw = c.u8()?;
            let dtype = DType::from_u8(raw).ok_or_else(|| Ct2Error::Dtype { name: name.clone(), dtype: raw })?;
            let bytes = c.u32()? as usize;
            let data = c.take(bytes)?;
            variables.insert(name, Variable { shape, dtype, data });
        }
        // Aliases (e.g. the output projection tied to the embeddings) add no data we need.
        Ok(Self { spec, variables })
    }

    pub fn get(&self, name: &str) -> Result<&Variable<'a>, Ct2Error> {
        self.variables.get(name).ok_or_else(|| Ct2Error::Missing(name.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn var(out: &mut Vec<u8>, name: &str, shape: &[u32], dtype: u8, data: &[u8]) {
        out.extend((name.len() as u16 + 1).to_le_bytes());
        out.extend(name.as_bytes());
        out.push(0);
        out.push(shape.len() as u8);
        for d in shape {
            out.extend(d.to_le_bytes());
        }
        out.push(dtype);
        out.extend((data.len() as u32).to_le_bytes());
        out.extend(data);
    }

    #[test]
    fn parses_and_rejects_truncation() {
        let mut buf = 6u32.to_le_bytes().to_vec();
        buf.extend(4u16.to_le_bytes());
        buf.extend(b"Spec");
        buf.extend(1u32.to_le_bytes());
        buf.extend(2u32.to_le_bytes());
        var(&mut buf, "a/b", &[2], 0, &[0, 0, 128, 63, 0, 0, 0, 64]);
        var(&mut buf, "heads", &[], 2, &8i16.to_le_bytes());
        buf.extend(0u32.to_le_bytes());
        let m = Model::parse(&buf).expect("parses");
        assert_eq!(m.spec, "Spec");
        assert_eq!(m.get("a/b").expect("a/b").to_f32(), Some(vec![1.0, 2.0]));
        assert_eq!(m.get("heads").expect("heads").scalar_int(), Some(8));
        for cut in [3, 10, 20, buf.len() - 6] {
            assert!(Model::parse(&buf[..cut]).is_err(), "cut at {cut}");
        }
        let mut v5 = buf.clone();
        v5[0] = 5;
        assert!(matches!(Model::parse(&v5), Err(Ct2Error::Version(5))));
    }
}
