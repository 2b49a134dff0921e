//! Arm PrimeCell UART (PL011), the arm64 console (ACPI `ARMH0011`, SPCR
//! interface type 3). Registers and bits per the PL011 Technical Reference
//! Manual (Arm DDI 0183); interrupt behaviour as QEMU's `hw/char/pl011.c`
//! models it, which Linux's `amba-pl011` driver is known to work with:
//! a transmitted byte leaves at once and raises TXIS; received bytes queue in
//! a 16-byte FIFO and raise RXIS.
//!
//! Linux binds `ARMH0011` through the AMBA bus, which reads the PrimeCell
//! identification registers at 0xFE0..0xFFC: they must read as a PL011.

use std::collections::VecDeque;
use std::io::Write;

/// UARTDR: data.
pub const DR: u64 = 0x000;
/// UARTRSR/UARTECR: receive status / error clear.
pub const RSR: u64 = 0x004;
/// UARTFR: flags.
pub const FR: u64 = 0x018;
/// UARTILPR: IrDA low-power counter.
pub const ILPR: u64 = 0x020;
/// UARTIBRD: integer baud rate divisor.
pub const IBRD: u64 = 0x024;
/// UARTFBRD: fractional baud rate divisor.
pub const FBRD: u64 = 0x028;
/// UARTLCR_H: line control.
pub const LCR_H: u64 = 0x02C;
/// UARTCR: control.
pub const CR: u64 = 0x030;
/// UARTIFLS: interrupt FIFO level select.
pub const IFLS: u64 = 0x034;
/// UARTIMSC: interrupt mask set/clear.
pub const IMSC: u64 = 0x038;
/// UARTRIS: raw interrupt status.
pub const RIS: u64 = 0x03C;
/// UARTMIS: masked interrupt status.
pub const MIS: u64 = 0x040;
/// UARTICR: interrupt clear.
pub const ICR: u64 = 0x044;
/// UARTDMACR: DMA control.
pub const DMACR: u64 = 0x048;

/// FR bit 4: receive FIFO empty.
pub const FR_RXFE: u32 = 1 << 4;
/// FR bit 6: receive FIFO full.
pub const FR_RXFF: u32 = 1 << 6;
/// FR bit 7: transmit FIFO empty.
pub const FR_TXFE: u32 = 1 << 7;

/// Interrupt bit 4: receive.
pub const INT_RX: u32 = 1 << 4;
/// Interrupt bit 5: transmit.
pub const INT_TX: u32 = 1 << 5;

/// PeriphID0..3 then PCellID0..3 at 0xFE0..0xFFC: part 0x011, designer Arm
/// (0x41), revision 1; PrimeCell ID 0xB105F00D.
pub const ID: [u8; 8] = [0x11, 0x10, 0x14, 0x00, 0x0D, 0xF0, 0x05, 0xB1];

/// Receive FIFO depth.
pub const FIFO_DEPTH: usize = 16;

/// A PL011 with its output sink and its receive FIFO.
pub struct Pl011 {
    out: Box<dyn Write + Send>,
    rx: VecDeque<u8>,
    ibrd: u32,
    fbrd: u32,
    lcr_h: u32,
    cr: u32,
    ifls: u32,
    imsc: u32,
    ris: u32,
    dmacr: u32,
    ilpr: u32,
}

impl std::fmt::Debug for Pl011 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pl011")
            .field("rx", &self.rx.len())
            .field("imsc", &self.imsc)
            .field("ris", &self.ris)
            .finish()
    }
}

impl Pl011 {
    /// A UART writing what the guest transmits to `out`, in its reset state
    /// (UARTCR 0x300: TX and RX enabled; UARTIFLS 0x12: half-full levels).
    #[must_use]
    pub fn new(out: Box<dyn Write + Send>) -> Self {
        Self {
            out,
            rx: VecDeque::new(),
            ibrd: 0,
            fbrd: 0,
            lcr_h: 0,
            cr: 0x300,
            ifls: 0x12,
            imsc: 0,
            ris: 0,
            dmacr: 0,
            ilpr: 0,
        }
    }

    /// Queues input for the guest; bytes beyond the FIFO are dropped and
    /// counted in the return value.
    pub fn receive(&mut self, bytes: &[u8]) -> usize {
        let room = FIFO_DEPTH - self.rx.len();
        self.rx.extend(bytes.iter().take(room));
        if !self.rx.is_empty() {
            self.ris |= INT_RX;
        }
        bytes.len().saturating_sub(room)
    }

    /// The interrupt line: some raw interrupt that is not masked.
    #[must_use]
    pub fn irq_level(&self) -> bool {
        self.ris & self.imsc != 0
    }

    fn flags(&self) -> u32 {
        let mut fr = FR_TXFE;
        if self.rx.is_empty() {
            fr |= FR_RXFE;
        }
        if self.rx.len() == FIFO_DEPTH {
            fr |= FR_RXFF;
        }
        fr
    }

    /// A guest read; unknown offsets read as zero. Returns the value read.
    pub fn read(&mut self, offset: u64) -> u32 {
        match offset {
            DR => {
                let b = self.rx.pop_front().map_or(0, u32::from);
                if self.rx.is_empty() {
                    self.ris &= !INT_RX;
                }
                b
            }
            FR => self.flags(),
            ILPR => self.ilpr,
            IBRD => self.ibrd,
            FBRD => self.fbrd,
            LCR_H => self.lcr_h,
            CR => self.cr,
            IFLS => self.ifls,
            IMSC => self.imsc,
            RIS => self.ris,
            MIS => self.ris & self.imsc,
            DMACR => self.dmacr,
            0xFE0..=0xFFC if offset % 4 == 0 => {
                u32::from(ID[usize::try_from((offset - 0xFE0) / 4).unwrap_or(0)])
            }
            _ => 0,
        }
    }

    /// A guest write; unknown offsets are ignored.
    pub fn write(&mut self, offset: u64, value: u32) {
        match offset {
            DR => {
                // Output problems (a closed pipe) must not stop the guest.
                let _ = self.out.write_all(&[value.to_le_bytes()[0]]);
                let _ = self.out.flush();
                self.ris |= INT_TX;
            }
            RSR => {}
            ILPR => self.ilpr = value,
            IBRD => self.ibrd = value,
            FBRD => self.fbrd = value,
            LCR_H => self.lcr_h = value,
            CR => self.cr = value,
            IFLS => self.ifls = value,
            IMSC => self.imsc = value & 0x7FF,
            ICR => self.ris &= !value,
            DMACR => self.dmacr = value,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("not poisoned").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn test_primecell_id_reads_as_a_pl011() {
        let mut uart = Pl011::new(Box::new(std::io::sink()));
        let id: Vec<u32> = (0..8).map(|i| uart.read(0xFE0 + 4 * i)).collect();
        // amba_device reads PeriphID 0x00041011 and PrimeCell ID 0xB105F00D.
        assert_eq!(id, [0x11, 0x10, 0x14, 0x00, 0x0D, 0xF0, 0x05, 0xB1]);
    }

    #[test]
    fn test_transmit_writes_out_and_raises_tx() {
        let sink = Sink::default();
        let mut uart = Pl011::new(Box::new(sink.clone()));
        uart.write(IMSC, INT_TX);
        for b in b"ok\n" {
            uart.write(DR, u32::from(*b));
        }
        assert_eq!(sink.0.lock().expect("not poisoned").as_slice(), b"ok\n");
        assert!(uart.irq_level());
        assert_eq!(uart.read(MIS), INT_TX);
        uart.write(ICR, INT_TX);
        assert!(!uart.irq_level());
        assert_eq!(uart.read(FR) & FR_TXFE, FR_TXFE);
    }

    #[test]
    fn test_receive_fifo_flags_and_interrupt() {
        let mut uart = Pl011::new(Box::new(std::io::sink()));
        assert_eq!(uart.read(FR) & FR_RXFE, FR_RXFE);
        assert_eq!(uart.receive(b"hi"), 0);
        assert_eq!(uart.read(FR) & FR_RXFE, 0);
        assert!(!uart.irq_level(), "masked");
        uart.write(IMSC, INT_RX);
        assert!(uart.irq_level());
        assert_eq!(
            (uart.read(DR), uart.read(DR)),
            (u32::from(b'h'), u32::from(b'i'))
        );
        assert!(!uart.irq_level());
        assert_eq!(uart.read(DR), 0, "empty FIFO reads 0");
    }

    #[test]
    fn test_fifo_overflow_drops_and_counts() {
        let mut uart = Pl011::new(Box::new(std::io::sink()));
        assert_eq!(uart.receive(&[b'x'; 20]), 4);
        assert_eq!(uart.read(FR) & FR_RXFF, FR_RXFF);
    }
}
