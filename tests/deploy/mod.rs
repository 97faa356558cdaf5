//! The deploy files, run: Traefik with `deploy/traefik/dynamic.yml` in front of Cartwheel, its
//! certificate from a test ACME CA. (The Dockerfile, the compose files and the workflows are
//! linted by `scripts/check-deploy`; there is no Docker engine to run them here.)

mod traefik;
