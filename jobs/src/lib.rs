//! The job queue's vocabulary: job families, transactional enqueue, and storage setup.

pub mod storage;
