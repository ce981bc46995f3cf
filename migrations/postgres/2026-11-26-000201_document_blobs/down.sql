DROP TABLE blob_chunks;
DROP TABLE document_blobs;
