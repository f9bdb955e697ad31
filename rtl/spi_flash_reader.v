// spi_flash_reader: reads a byte stream from a SPI NOR flash (mode 0, single I/O), e.g. the
// configuration flash of an iCE40 board after configuration.
//
// After reset it deselects the flash for CS_GAP cycles (a reset may end a read), sends Release Power-down (0xAB) and keeps the flash deselected for
// WAKE_CYCLES (the flash's tRES1, 3 us for the W25Q family), so a flash left in deep
// power-down answers. A cycle with start = 1 (any time; during the wake-up it is remembered)
// ends the read in progress (bytes not yet taken are dropped), deselects the flash for at
// least CS_GAP cycles and begins a Read (0x03) or, with FAST_READ = 1, a Fast Read (0x0B,
// eight dummy clocks) at addr; the bytes then arrive in order on m_valid/m_ready/m_data for
// as long as the consumer takes them (SCK stops while two bytes wait; the flash does not
// mind). stop = 1 ends the read and deselects the flash. idle is high when the flash is
// deselected and no read is pending (after the wake-up).
// SCK = clk / (2 * CLK_DIV). MISO is sampled at the clock edge that raises SCK, i.e. at the
// end of the low half-period in which the flash changed it (one clk period of time for
// CLK_DIV = 1). MSB first, as the flash sends.
`default_nettype none

module spi_flash_reader #(
    parameter CLK_DIV     = 1,     // SCK half-period in clk cycles (SCK = clk / (2 * CLK_DIV))
    parameter FAST_READ   = 0,     // 0: Read 0x03; 1: Fast Read 0x0B (8 dummy clocks)
    parameter WAKE_CYCLES = 160,   // deselected time after 0xAB, >= tRES1 * f_clk
    parameter CS_GAP      = 4      // minimum deselected time between reads (tSHSL), >= 2
) (
    input  wire        clk,
    input  wire        rst,        // synchronous, active high
    // control
    input  wire        start,      // begin a read at addr
    input  wire [23:0] addr,
    input  wire        stop,       // end the read (deselect)
    output wire        idle,
    // byte stream
    output reg         m_valid,
    input  wire        m_ready,
    output reg  [7:0]  m_data,
    // flash pins
    output reg         spi_sck,
    output reg         spi_cs_n,
    output reg         spi_mosi,
    input  wire        spi_miso
);

    localparam CMD_BITS = FAST_READ ? 40 : 32;
    localparam DIV_W    = (CLK_DIV > 1) ? $clog2(CLK_DIV) : 1;
    localparam WAIT_W   = $clog2(((WAKE_CYCLES > CS_GAP) ? WAKE_CYCLES : CS_GAP) + 1);
    localparam integer DIV_LAST_I = CLK_DIV - 1;
    localparam [DIV_W-1:0] DIV_LAST = DIV_LAST_I[DIV_W-1:0];
    localparam integer WAKE_I = WAKE_CYCLES;
    localparam integer GAP_I  = CS_GAP;
    localparam [WAIT_W-1:0] WAKE_N = WAKE_I[WAIT_W-1:0];
    localparam [WAIT_W-1:0] GAP_N  = GAP_I[WAIT_W-1:0];
    localparam integer CMD_I = CMD_BITS;
    localparam [5:0] CMD_N = CMD_I[5:0];
    localparam [7:0] CMD = FAST_READ ? 8'h0B : 8'h03;

`ifndef SYNTHESIS
    initial begin
        if (CLK_DIV < 1 || CS_GAP < 2 || WAKE_CYCLES < 1) begin
            $display("spi_flash_reader: need CLK_DIV >= 1, CS_GAP >= 2, WAKE_CYCLES >= 1"); $finish;
        end
    end
`endif

    localparam [2:0] S_WAKE = 3'd0, S_WWAIT = 3'd1, S_IDLE = 3'd2, S_GAP = 3'd3,
                     S_CMD = 3'd4, S_DATA = 3'd5;

    reg [2:0]        state_q;
    reg [DIV_W-1:0]  div_q;
    reg [WAIT_W-1:0] wait_q;
    reg [39:0]       sh_q;        // bits to send, next one in sh_q[39] (spi_mosi holds the current)
    reg [5:0]        nbits_q;     // bits of this phase not yet completed
    reg [7:0]        in_q;        // byte being received
    reg              full_q;      // in_q holds a complete byte not yet in m_data
    reg              pend_q;      // a start is waiting
    reg              wake_q;      // the wake-up command is still to be sent
    reg [23:0]       addr_q;
    wire             tick   = (div_q == {DIV_W{1'b0}});
    wire             take   = full_q & (~m_valid | m_ready);
    wire             in_out = (state_q == S_WAKE) | (state_q == S_CMD);

    assign idle = (state_q == S_IDLE) & ~pend_q & ~wake_q;

    always @(posedge clk) begin
        if (rst) begin
            state_q  <= S_GAP;              // deselect first (a reset may end a read)
            wake_q   <= 1'b1;
            spi_cs_n <= 1'b1;
            spi_sck  <= 1'b0;
            spi_mosi <= 1'b0;
            div_q    <= DIV_LAST;
            wait_q   <= GAP_N;
            full_q   <= 1'b0;
            pend_q   <= 1'b0;
            m_valid  <= 1'b0;
        end else begin
            div_q <= tick ? DIV_LAST : div_q - 1'b1;
            if (m_valid & m_ready) m_valid <= 1'b0;
            if (take) begin
                m_data  <= in_q;
                m_valid <= 1'b1;
                full_q  <= 1'b0;
            end
            if (start) begin
                pend_q <= 1'b1;
                addr_q <= addr;
            end
            if ((start | stop | pend_q) & (state_q != S_WAKE) & (state_q != S_WWAIT)
                    & (state_q != S_GAP)) begin
                // end what runs; a start (now or pending) reads again after the gap
                spi_cs_n <= 1'b1;
                spi_sck  <= 1'b0;
                full_q   <= 1'b0;
                m_valid  <= 1'b0;
                wait_q   <= GAP_N;
                state_q  <= (start | pend_q) ? S_GAP : S_IDLE;
                if (stop & ~start) pend_q <= 1'b0;
            end else begin
                case (state_q)
                    S_WWAIT, S_GAP: begin
                        if (wait_q != {WAIT_W{1'b0}}) begin
                            wait_q <= wait_q - 1'b1;
                        end else if (wake_q) begin
                            wake_q   <= 1'b0;
                            state_q  <= S_WAKE;
                            spi_cs_n <= 1'b0;
                            spi_mosi <= 1'b1;       // bit 7 of 0xAB
                            sh_q     <= {7'b0101011, 33'd0};
                            nbits_q  <= 6'd8;
                            div_q    <= DIV_LAST;
                        end else if (pend_q) begin
                            pend_q   <= start;
                            state_q  <= S_CMD;
                            spi_cs_n <= 1'b0;
                            spi_mosi <= CMD[7];
                            sh_q     <= {CMD[6:0], addr_q, 9'd0};
                            nbits_q  <= CMD_N;
                            div_q    <= DIV_LAST;
                        end else begin
                            state_q <= S_IDLE;
                        end
                    end
                    S_DATA: if (tick) begin
                        if (~spi_sck) begin
                            if (~full_q | take) begin
                                spi_sck <= 1'b1;
                                in_q    <= {in_q[6:0], spi_miso};
                                nbits_q <= (nbits_q == 6'd1) ? 6'd8 : nbits_q - 6'd1;
                                if (nbits_q == 6'd1) full_q <= 1'b1;
                            end
                        end else begin
                            spi_sck <= 1'b0;
                        end
                    end
                    default: if (in_out & tick) begin   // S_WAKE, S_CMD: shift out
                        if (~spi_sck) begin
                            spi_sck <= 1'b1;
                        end else begin
                            spi_sck  <= 1'b0;
                            spi_mosi <= sh_q[39];
                            sh_q     <= {sh_q[38:0], 1'b0};
                            nbits_q  <= nbits_q - 6'd1;
                            if (nbits_q == 6'd1) begin
                                if (state_q == S_WAKE) begin
                                    spi_cs_n <= 1'b1;
                                    state_q  <= S_WWAIT;
                                    wait_q   <= WAKE_N;
                                end else begin
                                    state_q <= S_DATA;
                                    nbits_q <= 6'd8;
                                end
                            end
                        end
                    end
                endcase
            end
        end
    end

endmodule

`default_nettype wire
