DROP INDEX chat_message_by_session;
DROP TABLE chat_message;
DROP INDEX chat_session_by_source;
DROP INDEX chat_session_by_notebook;
DROP TABLE chat_session;
