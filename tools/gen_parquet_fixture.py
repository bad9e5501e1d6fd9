"""Writes tests/fixtures/item_factors.parquet: a tiny Spark-ALS-style `itemFactors` table
(`id: int32`, `features: list<float32>`, snappy) for the Parquet import test.

Usage: python3 tools/gen_parquet_fixture.py   (needs pyarrow)
"""
import pyarrow as pa
import pyarrow.parquet as pq

table = pa.table({
    "id": pa.array([85123, 71053, 84406], type=pa.int32()),
    "features": pa.array([[0.5, -1.0, 0.25, 2.0], [1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.5, -0.5]], type=pa.list_(pa.float32())),
})
pq.write_table(table, "tests/fixtures/item_factors.parquet", compression="snappy")
