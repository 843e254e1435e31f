CREATE TABLE "_lanterne_migrations" (
   "name" TEXT PRIMARY KEY,
   "applied_at" TEXT
);
CREATE TABLE "folders" (
   "id" INTEGER PRIMARY KEY,
   "path" TEXT NOT NULL,
   "added_at" TEXT NOT NULL
);
CREATE UNIQUE INDEX "idx_folders_path"
    ON "folders" ("path");
CREATE TABLE "documents" (
   "id" INTEGER PRIMARY KEY,
   "folder_id" INTEGER NOT NULL REFERENCES "folders"("id"),
   "path" TEXT NOT NULL,
   "size" INTEGER,
   "mtime_ns" INTEGER,
   "sha256" TEXT,
   "title" TEXT,
   "lang" TEXT,
   "status" TEXT NOT NULL,
   "error" TEXT,
   "indexed_at" TEXT
);
CREATE UNIQUE INDEX "idx_documents_path"
    ON "documents" ("path");
CREATE INDEX "idx_documents_folder_id"
    ON "documents" ("folder_id");
CREATE TABLE "chunks" (
   "id" INTEGER PRIMARY KEY,
   "document_id" INTEGER NOT NULL REFERENCES "documents"("id"),
   "ordinal" INTEGER NOT NULL,
   "text" TEXT NOT NULL,
   "heading" TEXT,
   "page" INTEGER,
   "line" INTEGER,
   "lang" TEXT
);
CREATE INDEX "idx_chunks_document_id"
    ON "chunks" ("document_id");
CREATE VIRTUAL TABLE chunks_stems USING fts5(text, heading, tokenize = 'unicode61 remove_diacritics 2');
CREATE TABLE 'chunks_stems_data'(id INTEGER PRIMARY KEY, block BLOB);
CREATE TABLE 'chunks_stems_idx'(segid, term, pgno, PRIMARY KEY(segid, term)) WITHOUT ROWID;
CREATE TABLE 'chunks_stems_content'(id INTEGER PRIMARY KEY, c0, c1);
CREATE TABLE 'chunks_stems_docsize'(id INTEGER PRIMARY KEY, sz BLOB);
CREATE TABLE 'chunks_stems_config'(k PRIMARY KEY, v) WITHOUT ROWID;
CREATE TRIGGER chunks_stems_ad AFTER DELETE ON chunks BEGIN DELETE FROM chunks_stems WHERE rowid = old.id; END;
CREATE TABLE sqlite_sequence(name,seq);
CREATE TABLE vector_changes (id INTEGER PRIMARY KEY CHECK (id = 1), deleted INTEGER NOT NULL);
CREATE TABLE "vectors" (id INTEGER PRIMARY KEY AUTOINCREMENT, chunk_id INTEGER NOT NULL, model TEXT NOT NULL, scale REAL NOT NULL, vector BLOB NOT NULL, UNIQUE (chunk_id, model));
CREATE INDEX vectors_model_id ON vectors (model, id);
CREATE TRIGGER chunks_vectors_ad AFTER DELETE ON chunks BEGIN DELETE FROM vectors WHERE chunk_id = old.id; END;
CREATE TRIGGER vectors_ad AFTER DELETE ON vectors BEGIN UPDATE vector_changes SET deleted = deleted + 1 WHERE id = 1; END;
CREATE TABLE vector_models (model TEXT PRIMARY KEY, path TEXT NOT NULL, name TEXT NOT NULL, used_at TEXT NOT NULL);
CREATE TABLE words (word TEXT PRIMARY KEY, passages INTEGER NOT NULL);
CREATE TABLE word_scan (id INTEGER PRIMARY KEY CHECK (id = 1), last_chunk_id INTEGER NOT NULL);
CREATE TABLE word_vectors (model TEXT NOT NULL, word TEXT NOT NULL, vector BLOB NOT NULL, PRIMARY KEY (model, word));
CREATE TABLE folder_presence (folder_id INTEGER PRIMARY KEY REFERENCES folders (id) ON DELETE CASCADE, device INTEGER, mount_point INTEGER NOT NULL DEFAULT 0, missing_since TEXT);
