//! Small robust statistics used by the estimators: medians and quantiles, a Huber location,
//! Theil–Sen lines with Sen's interval, and Student-t quantiles. Written here (rather than
//! pulled from a crate) because they are short and their exact behaviour is part of the method.

mod binned;
mod robust;
mod student_t;
mod theil_sen;

pub use binned::{Bin, add_to_bin, binned_medians, binned_medians_and_scales};
pub use robust::{HuberFit, huber_location, mad, median, quantile, robust_scale};
pub use student_t::t_quantile_95;
pub use theil_sen::{LineFit, Ols2, ols, ols2, rms_residual, theil_sen};
