//! Policy math (work in progress).
