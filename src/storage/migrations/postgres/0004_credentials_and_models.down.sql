DROP TABLE default_model;
DROP INDEX model_by_credential;
DROP INDEX model_unique_name;
DROP TABLE model;
DROP INDEX credential_by_provider;
DROP TABLE credential;
