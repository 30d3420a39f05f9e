DROP TABLE app_setting;
DROP TABLE note;
DROP TABLE source_notebook;
DROP TABLE source;
DROP TABLE notebook;
