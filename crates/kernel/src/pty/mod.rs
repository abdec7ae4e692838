pub mod line_discipline;
pub mod termios;
