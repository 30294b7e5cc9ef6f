//! Blobs a shared library embeds as data symbols (a model and its vocabulary compiled into a
//! native SDK), found by name through the ELF symbol table: their file offsets change from one
//! build of the library to the next.
use object::{Object, ObjectSection, ObjectSymbol};

/// A blob: the symbol at its first byte and the symbol of a little-endian u64 holding its size.
#[derive(Debug, Clone, Copy)]
pub struct Blob {
    pub symbol: &'static str,
    pub size_symbol: &'static str,
}

#[derive(Debug, thiserror::Error)]
pub enum ElfError {
    #[error("not an ELF library: {0}")]
    Parse(String),
    #[error("symbol {0} is not in the library")]
    Missing(&'static str),
    #[error("symbol {0} points outside the library's sections")]
    OutOfRange(&'static str),
}

/// The blob's bytes in `library`.
pub fn extract(library: &[u8], blob: Blob) -> Result<&[u8], ElfError> {
    let file = object::File::parse(library).map_err(|e| ElfError::Parse(e.to_string()))?;
    let size_bytes = symbol_data(&file, blob.size_symbol, 8)?;
    let size = u64::from_le_bytes(size_bytes.try_into().map_err(|_| ElfError::OutOfRange(blob.size_symbol))?);
    symbol_data(&file, blob.symbol, size)
}

fn symbol_data<'a>(file: &object::File<'a>, name: &'static str, size: u64) -> Result<&'a [u8], ElfError> {
    let address = file
        .dynamic_symbols()
        .chain(file.symbols())
        .find(|s| s.name() == Ok(name))
        .map(|s| s.address())
        .ok_or(ElfError::Missing(name))?;
    file.sections().find_map(|s| s.data_range(address, size).ok().flatten()).ok_or(ElfError::OutOfRange(name))
}

/// A small ELF object holding the given data symbols, for tests.
#[cfg(test)]
pub(crate) fn test_library(symbols: &[(&str, &[u8])]) -> Vec<u8> {
    use object::write::{Object as Writer, StandardSection, Symbol, SymbolSection};
    use object::{Architecture, BinaryFormat, Endianness, SymbolFlags, SymbolKind, SymbolScope};
    let mut w = Writer::new(BinaryFormat::Elf, Architecture::X86_64, Endianness::Little);
    let section = w.section_id(StandardSection::ReadOnlyData);
    for (name, data) in symbols {
        let offset = w.append_section_data(section, data, 8);
        w.add_symbol(Symbol {
            name: name.as_bytes().to_vec(),
            value: offset,
            size: data.len() as u64,
            kind: SymbolKind::Data,
            scope: SymbolScope::Dynamic,
            weak: false,
            section: SymbolSection::Section(section),
            flags: SymbolFlags::None,
        });
    }
    w.write().expect("write elf")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A blob and its size as data symbols, after some padding.
    fn library(blob: &[u8], declared: u64) -> Vec<u8> {
        test_library(&[("padding", &[7; 13]), ("model", blob), ("model_size", &declared.to_le_bytes())])
    }

    const BLOB: Blob = Blob { symbol: "model", size_symbol: "model_size" };

    #[test]
    fn finds_the_blob_through_the_symbol_table() {
        let lib = library(b"onnx bytes here", 15);
        assert_eq!(extract(&lib, BLOB).expect("extract"), b"onnx bytes here");
    }

    #[test]
    fn wrong_sizes_names_and_files_are_errors() {
        let lib = library(b"onnx", 1 << 40);
        assert!(matches!(extract(&lib, BLOB), Err(ElfError::OutOfRange("model"))));
        let missing = Blob { symbol: "vocab", size_symbol: "model_size" };
        assert!(matches!(extract(&lib, missing), Err(ElfError::Missing("vocab"))));
        assert!(matches!(extract(b"not a library", BLOB), Err(ElfError::Parse(_))));
    }
}
