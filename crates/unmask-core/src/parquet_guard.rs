//! Checks a parquet file's row and value counts before polars decodes it.
//!
//! polars casts each page header's `i32` value count to `usize` unchecked. A damaged header
//! with a negative count asks for a validity bitmap near 2^61 bytes, and the allocation
//! failure aborts the process: no `catch_unwind` sees it, so a corrupt manifest would kill a
//! whole run instead of being an error naming the file. Every count polars sizes a buffer
//! from is therefore checked against the others first: each page's values lie within its
//! column chunk's, the data pages add up to the chunk exactly, a dictionary holds no more
//! entries than the chunk has values, and a row group has no more rows than any of its
//! columns has values. A consistent file passes unchanged.

use polars_parquet::parquet::metadata::ColumnChunkMetadata;
use polars_parquet::parquet::read::read_metadata;
use polars_parquet_format::thrift::protocol::TCompactInputProtocol;
use polars_parquet_format::{PageHeader, PageType};
use std::io::{Cursor, Seek, SeekFrom};

/// The most bytes a page header may take; headers polars writes are tens of bytes.
const MAX_HEADER_BYTES: usize = 1 << 20;

/// `Err` names the first count that disagrees with the rest of `bytes`.
pub(crate) fn check_counts(bytes: &[u8]) -> Result<(), String> {
    let metadata = read_metadata(&mut Cursor::new(bytes)).map_err(|e| e.to_string())?;
    for (group_index, group) in metadata.row_groups.iter().enumerate() {
        let columns = group.parquet_columns();
        for column in columns {
            check_column(bytes, column).map_err(|why| format!("row group {group_index}: {why}"))?;
        }
        let fewest_values = columns.iter().map(|c| c.num_values()).min();
        if let Some(fewest) = fewest_values {
            if group.num_rows() as i64 > fewest {
                return Err(format!(
                    "row group {group_index} claims {} rows but a column holds {fewest} values",
                    group.num_rows()
                ));
            }
        }
    }
    Ok(())
}

/// Walks `column`'s page headers the way polars' page reader does, checking each count.
fn check_column(bytes: &[u8], column: &ColumnChunkMetadata) -> Result<(), String> {
    let name = column.descriptor().path_in_schema.join(".");
    let total = column.num_values();
    if total < 0 {
        return Err(format!("column `{name}` claims {total} values"));
    }
    let mut reader = Cursor::new(bytes);
    reader
        .seek(SeekFrom::Start(column.byte_range().start))
        .map_err(|e| e.to_string())?;
    let mut seen: i64 = 0;
    while seen < total {
        let header = {
            let mut protocol = TCompactInputProtocol::new(&mut reader, MAX_HEADER_BYTES);
            PageHeader::read_from_in_protocol(&mut protocol)
                .map_err(|e| format!("column `{name}`: unreadable page header ({e})"))?
        };
        let values = page_values(&header);
        if let Some(values) = values {
            if values < 0 || seen + i64::from(values) > total {
                return Err(format!(
                    "column `{name}`: a page claims {values} values after {seen} of {total}"
                ));
            }
            seen += i64::from(values);
        }
        if let Some(dictionary) = &header.dictionary_page_header {
            if dictionary.num_values < 0 || i64::from(dictionary.num_values) > total {
                return Err(format!(
                    "column `{name}`: a dictionary claims {} entries for {total} values",
                    dictionary.num_values
                ));
            }
        }
        let size = u64::try_from(header.compressed_page_size)
            .map_err(|_| format!("column `{name}`: a page claims a negative size"))?;
        if header.uncompressed_page_size < 0 {
            return Err(format!(
                "column `{name}`: a page claims a negative uncompressed size"
            ));
        }
        let next = reader.position() + size;
        if next > bytes.len() as u64 {
            return Err(format!(
                "column `{name}`: a page runs past the end of the file"
            ));
        }
        reader.set_position(next);
    }
    Ok(())
}

/// The values a data page holds; `None` for dictionary and index pages.
fn page_values(header: &PageHeader) -> Option<i32> {
    match header.type_ {
        PageType::DATA_PAGE => Some(
            header
                .data_page_header
                .as_ref()
                .map_or(-1, |h| h.num_values),
        ),
        PageType::DATA_PAGE_V2 => Some(
            header
                .data_page_header_v2
                .as_ref()
                .map_or(-1, |h| h.num_values),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::*;

    fn manifest_bytes() -> Vec<u8> {
        let mut frame = df!(
            "name" => ["a", "b", "c", "a"],
            "score" => [Some(1.0f32), None, Some(3.0), Some(4.0)],
        )
        .unwrap();
        crate::manifest::parquet_bytes(&mut frame).unwrap()
    }

    /// `bytes` with the first data page of column `score` claiming `count` values.
    fn with_page_count(bytes: &[u8], count: i32) -> Vec<u8> {
        let metadata = read_metadata(&mut Cursor::new(bytes)).unwrap();
        let column = &metadata.row_groups[0].parquet_columns()[1];
        let start = column.byte_range().start as usize;
        let mut reader = Cursor::new(&bytes[start..]);
        let mut header = {
            let mut protocol = TCompactInputProtocol::new(&mut reader, MAX_HEADER_BYTES);
            PageHeader::read_from_in_protocol(&mut protocol).unwrap()
        };
        let old_len = reader.position() as usize;
        match header.type_ {
            PageType::DATA_PAGE => header.data_page_header.as_mut().unwrap().num_values = count,
            _ => header.data_page_header_v2.as_mut().unwrap().num_values = count,
        }
        let mut encoded = Vec::new();
        {
            use polars_parquet_format::thrift::protocol::TCompactOutputProtocol;
            let mut protocol = TCompactOutputProtocol::new(&mut encoded);
            header.write_to_out_protocol(&mut protocol).unwrap();
        }
        // Same-length headers keep every later offset valid.
        assert_eq!(
            encoded.len(),
            old_len,
            "the rewritten header changed length"
        );
        let mut changed = bytes.to_vec();
        changed[start..start + old_len].copy_from_slice(&encoded);
        changed
    }

    #[test]
    fn a_consistent_file_passes_and_a_negative_page_count_is_named() {
        let bytes = manifest_bytes();
        check_counts(&bytes).unwrap();
        let bad = with_page_count(&bytes, -3);
        let why = check_counts(&bad).unwrap_err();
        assert!(why.contains("score") && why.contains("-3"), "{why}");
        let too_many = with_page_count(&bytes, 9);
        let why = check_counts(&too_many).unwrap_err();
        assert!(why.contains("9 values"), "{why}");
    }
}
