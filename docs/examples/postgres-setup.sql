-- The backend's PostgreSQL role and database. Run once, as a superuser, on the database server:
--   psql -v backend_password='<database password>' -f postgres-setup.sql
-- The role owns its database, so `python -m backend migrate` can create and alter the tables (since
-- PostgreSQL 15 only a database's owner may create tables in its public schema), and nothing outside it.
CREATE ROLE vaxledger_backend LOGIN PASSWORD :'backend_password';
CREATE DATABASE vaxledger_backend OWNER vaxledger_backend ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE vaxledger_backend FROM PUBLIC;
