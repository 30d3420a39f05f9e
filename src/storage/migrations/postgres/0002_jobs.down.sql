DROP TABLE job_worker;
DROP TABLE job;
