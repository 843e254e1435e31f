CREATE TABLE "_lanterne_migrations" (
   "name" TEXT PRIMARY KEY,
   "applied_at" TEXT
);
CREATE TABLE conversations (id INTEGER PRIMARY KEY, title TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE INDEX conversations_updated ON conversations (updated_at);
CREATE TABLE messages (id INTEGER PRIMARY KEY, conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE, role TEXT NOT NULL CHECK (role IN ('user', 'assistant')), text TEXT NOT NULL, status TEXT NOT NULL, sources TEXT NOT NULL DEFAULT '[]', details TEXT NOT NULL DEFAULT '{}', created_at TEXT NOT NULL, rating INTEGER CHECK (rating IN (-1, 1)), edited_text TEXT, feedback_at TEXT, reasoning TEXT NOT NULL DEFAULT '');
CREATE INDEX messages_conversation ON messages (conversation_id, id);
CREATE VIRTUAL TABLE "messages_fts" USING FTS5 (
    "text",
    tokenize='unicode61 remove_diacritics 2',
    content="messages"
);
CREATE TABLE 'messages_fts_data'(id INTEGER PRIMARY KEY, block BLOB);
CREATE TABLE 'messages_fts_idx'(segid, term, pgno, PRIMARY KEY(segid, term)) WITHOUT ROWID;
CREATE TABLE 'messages_fts_docsize'(id INTEGER PRIMARY KEY, sz BLOB);
CREATE TABLE 'messages_fts_config'(k PRIMARY KEY, v) WITHOUT ROWID;
CREATE TRIGGER "messages_ai" AFTER INSERT ON "messages" BEGIN
  INSERT INTO "messages_fts" (rowid, "text") VALUES (new.rowid, new."text");
END;
CREATE TRIGGER "messages_ad" AFTER DELETE ON "messages" BEGIN
  INSERT INTO "messages_fts" ("messages_fts", rowid, "text") VALUES('delete', old.rowid, old."text");
END;
CREATE TRIGGER "messages_au" AFTER UPDATE ON "messages" BEGIN
  INSERT INTO "messages_fts" ("messages_fts", rowid, "text") VALUES('delete', old.rowid, old."text");
  INSERT INTO "messages_fts" (rowid, "text") VALUES (new.rowid, new."text");
END;
