-- Removes transformations, insights and insight vectors; restores the embedding table of 0005.

DELETE FROM embedding WHERE insight_id IS NOT NULL;
DROP INDEX embedding_by_insight;
ALTER TABLE embedding DROP CONSTRAINT embedding_one_owner;
ALTER TABLE embedding DROP COLUMN insight_id;
ALTER TABLE embedding ADD CONSTRAINT embedding_one_owner CHECK (num_nonnulls(chunk_id, note_id) = 1);

DROP TABLE source_insight;
DROP TABLE transformation;
DELETE FROM app_setting WHERE key = 'transformation_instructions';
