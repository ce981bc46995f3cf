DROP TABLE open_data_changes;
DROP TABLE open_data_heads;
